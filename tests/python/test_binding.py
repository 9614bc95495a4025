"""The ctypes binding (_capi.py) against the C header it binds (include/terrapix.h): every
function it declares has the header's argument and result types, every status its value, the
info struct its fields. The header is generated from the Rust exports (tests/c_abi.rs keeps it
current), so the binding cannot drift from the library."""

import ctypes
import os
import re

from terrapix import _capi

HEADER = os.path.join(
    os.environ.get("TERRAPIX_REPO", os.path.dirname(os.path.dirname(os.path.dirname(__file__)))), "include", "terrapix.h"
)

# A C type of the header as ctypes declares it in the binding (owned strings come back as void*).
C_TYPES = {
    "void": None,
    "int": ctypes.c_int,
    "size_t": ctypes.c_size_t,
    "float": ctypes.c_float,
    "double": ctypes.c_double,
    "const char*": ctypes.c_char_p,
    "char*": ctypes.c_void_p,
    "char**": ctypes.POINTER(ctypes.c_void_p),
    "const char*const*": ctypes.POINTER(ctypes.c_char_p),
    "void*": ctypes.c_void_p,
    "enum TpxStatus": ctypes.c_int,
    "struct TpxModel*": ctypes.c_void_p,
    "const struct TpxModel*": ctypes.c_void_p,
    "struct TpxModelInfo*": ctypes.POINTER(_capi._ModelInfo),
    "const float*": ctypes.POINTER(ctypes.c_float),
    "float*": ctypes.POINTER(ctypes.c_float),
    "const double*": ctypes.POINTER(ctypes.c_double),
    "TpxProgressFn": _capi.PROGRESS_FN,
}


def header_text():
    with open(HEADER) as f:
        return f.read()


def c_type(declaration):
    """The type of `const char *name` (the name dropped, spaces around * removed)."""
    text = re.sub(r"\s*\*\s*", "*", declaration.strip())
    return re.sub(r"\s*\b\w+$", "", text) if not text.endswith("*") or " " in text else text


def functions():
    """name -> (result type, [argument types]) of every function the header declares."""
    body = re.sub(r"//[^\n]*", "", header_text())
    found = {}
    for result, name, args in re.findall(r"^([\w \*]+?)\s*\**\s*(tpx_\w+)\(([^)]*)\);", body, re.M):
        star = re.search(rf"(\**)\s*{name}\(", body).group(1)
        result = re.sub(r"\s*\*\s*", "*", result.strip() + star)
        arguments = [] if args.strip() in ("", "void") else [c_type(a) for a in args.split(",")]
        found[name] = (result, arguments)
    return found


def test_every_bound_function_has_the_headers_types():
    declared = functions()
    assert len(declared) >= 20, declared
    for name, (restype, argtypes) in _capi._SIGNATURES.items():
        assert name in declared, f"{name} is bound but not in include/terrapix.h"
        result, arguments = declared[name]
        assert C_TYPES[result] == restype, f"{name}: returns {result}, bound as {restype}"
        assert len(arguments) == len(argtypes), f"{name}: {len(arguments)} arguments in the header, {len(argtypes)} bound"
        for i, (c, bound) in enumerate(zip(arguments, argtypes)):
            assert C_TYPES[c] == bound, f"{name}: argument {i} is {c}, bound as {bound}"


def test_every_workflow_of_the_header_is_bound():
    # Everything a Python or QGIS user needs; the rest (tpx_predict_buffer's raw pointers) too.
    missing = sorted(set(functions()) - set(_capi._SIGNATURES))
    assert missing == [], f"functions of include/terrapix.h the binding does not declare: {missing}"


def test_statuses_and_the_info_struct_match():
    text = header_text()
    statuses = dict(re.findall(r"(TPX_\w+) = (\d+),", text))
    assert statuses, text[:200]
    for name, value in statuses.items():
        assert getattr(_capi, name) == int(value), name
    struct = re.search(r"typedef struct TpxModelInfo \{(.*?)\} TpxModelInfo;", text, re.S).group(1)
    fields = re.findall(r"^\s*([A-Za-z_][\w ]*?)\s+(\w+);\s*$", re.sub(r"/\*.*?\*/|//[^\n]*", "", struct, flags=re.S), re.M)
    bound = _capi._ModelInfo._fields_
    assert [n for _, n in fields] == [n for n, _ in bound]
    assert [C_TYPES[t] for t, _ in fields] == [t for _, t in bound]
    lib = _capi.load()
    assert [lib.status_name(int(v)) for v in statuses.values()] == list(statuses), "tpx_status_string names every status"
