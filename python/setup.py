"""The wheel carries libterrapix.so (scripts/build_wheel.sh puts it in terrapix/lib/): tag it for
the platform, not for a Python version or ABI, since it is loaded with ctypes, not imported."""

import sysconfig

from setuptools import setup
from wheel.bdist_wheel import bdist_wheel


class PlatformWheel(bdist_wheel):
    def get_tag(self):
        return "py3", "none", sysconfig.get_platform().replace("-", "_").replace(".", "_")


setup(cmdclass={"bdist_wheel": PlatformWheel})
