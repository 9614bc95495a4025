//! Compiles the vendored ONNX protobuf schema (proto/onnx.proto, Apache-2.0, from the `onnx`
//! project) into Rust types with prost. protox is a pure-Rust protobuf compiler, so building
//! terrapix needs no `protoc` on the machine.
fn main() {
    println!("cargo:rerun-if-changed=proto/onnx.proto");
    let fds = protox::compile(["proto/onnx.proto"], ["proto"]).expect("compile proto/onnx.proto");
    prost_build::Config::new().compile_fds(fds).expect("generate ONNX protobuf types");
}
