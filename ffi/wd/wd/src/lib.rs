//! libwd.so.2: UADK's core C ABI (accelerators, contexts, scheduler, memory pools) on uadk-rs
