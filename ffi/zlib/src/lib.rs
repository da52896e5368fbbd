//! libuadk_z: zlib 1.2.13's C ABI on uadk-rs engines
