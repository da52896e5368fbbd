//! The single error type of `uadk-emu`.

use std::path::PathBuf;

/// Result alias of the emulator.
pub type Result<T, E = EmuError> = std::result::Result<T, E>;

/// What can go wrong while starting, controlling or serving the emulator.
#[derive(Debug, thiserror::Error)]
pub enum EmuError {
    /// A file-system or socket operation failed.
    #[error("{what}: {source} (check that the root directory is writable and not used by another emulator)")]
    Io {
        /// What was attempted.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A device or fault specification is invalid.
    #[error("invalid emulator configuration: {0}")]
    Config(String),
    /// No emulator answers on the control socket.
    #[error("no emulator is running under {root} (start one with `uadk emu start --root {root}`)", root = .0.display())]
    NotRunning(PathBuf),
    /// An emulator already runs under this root.
    #[error("an emulator already runs under {root} (stop it with `uadk emu stop --root {root}`)", root = .0.display())]
    AlreadyRunning(PathBuf),
    /// The named device does not exist.
    #[error("no emulated device named `{0}` (see `uadk emu status`)")]
    NoSuchDevice(String),
    /// The control protocol returned something unexpected.
    #[error("control protocol error: {0}")]
    Control(String),
    /// An error from the driver-side library.
    #[error(transparent)]
    Core(#[from] uadk_core::Error),
}

impl EmuError {
    /// Wraps an OS error with a description.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        EmuError::Io {
            what: what.into(),
            source,
        }
    }
}
