//! libwd_crypto.so.2: UADK's cipher/digest/AEAD C ABI on uadk-crypto
