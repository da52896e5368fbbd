//! libuadk_provider.so: an OpenSSL 3 provider on uadk-crypto
