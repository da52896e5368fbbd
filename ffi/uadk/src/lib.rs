//! libuadk: the C API of uadk-rs (libuadk.so.0, libuadk.a, uadk.h, uadk.pc)
