//! libwd_comp.so.2: UADK's compression C ABI on uadk-zip
