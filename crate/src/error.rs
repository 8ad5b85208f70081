//! One error type for every OS module, carrying a stable code that the TypeScript facade
//! turns into `IpcError.code`, plus the OS errno and syscall when the OS gave them.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    Exists,
    NotFound,
    Permission,
    Timeout,
    Aborted,
    Closed,
    InvalidArgument,
    TooLarge,
    Limit,
    Unsupported,
    OwnerDied,
    Busy,
    Os,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Exists => "ERR_IPC_EXISTS",
            Code::NotFound => "ERR_IPC_NOT_FOUND",
            Code::Permission => "ERR_IPC_PERMISSION",
            Code::Timeout => "ERR_IPC_TIMEOUT",
            Code::Aborted => "ERR_IPC_ABORTED",
            Code::Closed => "ERR_IPC_CLOSED",
            Code::InvalidArgument => "ERR_IPC_INVALID_ARGUMENT",
            Code::TooLarge => "ERR_IPC_TOO_LARGE",
            Code::Limit => "ERR_IPC_LIMIT",
            Code::Unsupported => "ERR_IPC_UNSUPPORTED",
            Code::OwnerDied => "ERR_OWNER_DIED",
            Code::Busy => "ERR_IPC_BUSY",
            Code::Os => "ERR_IPC_OS",
        }
    }

    /// The code an errno means when no caller-specific meaning applies.
    pub fn from_errno(errno: i32) -> Code {
        match errno {
            libc::EEXIST => Code::Exists,
            libc::ENOENT => Code::NotFound,
            libc::EACCES | libc::EPERM | libc::EROFS => Code::Permission,
            libc::ETIMEDOUT => Code::Timeout,
            libc::EAGAIN => Code::Busy,
            libc::EBADF | libc::EPIPE | libc::EIDRM => Code::Closed,
            libc::EINVAL | libc::ENAMETOOLONG | libc::ELOOP | libc::EISDIR => Code::InvalidArgument,
            libc::EMSGSIZE | libc::E2BIG | libc::EFBIG => Code::TooLarge,
            libc::ENOSPC | libc::EMFILE | libc::ENFILE | libc::ENOMEM | libc::EDQUOT => Code::Limit,
            libc::ENOSYS | libc::EOPNOTSUPP => Code::Unsupported,
            libc::EOWNERDEAD => Code::OwnerDied,
            _ => Code::Os,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpcError {
    pub code: Code,
    pub errno: Option<i32>,
    pub syscall: Option<&'static str>,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, IpcError>;

impl IpcError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        IpcError {
            code,
            errno: None,
            syscall: None,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidArgument, message)
    }

    /// An error from a failed syscall; `context` names the object it was about.
    pub fn os(syscall: &'static str, errno: i32, context: &str) -> Self {
        let text = std::io::Error::from_raw_os_error(errno);
        IpcError {
            code: Code::from_errno(errno),
            errno: Some(errno),
            syscall: Some(syscall),
            message: format!("{syscall} {context}: {text}"),
        }
    }

    /// The error for the errno a libc call just left behind.
    pub fn last_os(syscall: &'static str, context: &str) -> Self {
        Self::os(syscall, last_errno(), context)
    }

    pub fn with_errno(mut self, errno: i32) -> Self {
        self.errno = Some(errno);
        self
    }

    pub fn with_code(mut self, code: Code) -> Self {
        self.code = code;
        self
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }
}

pub fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

impl fmt::Display for IpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for IpcError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_maps_to_stable_codes() {
        assert_eq!(Code::from_errno(libc::EEXIST).as_str(), "ERR_IPC_EXISTS");
        assert_eq!(Code::from_errno(libc::ENOENT).as_str(), "ERR_IPC_NOT_FOUND");
        assert_eq!(
            Code::from_errno(libc::EACCES).as_str(),
            "ERR_IPC_PERMISSION"
        );
        assert_eq!(Code::from_errno(libc::ENOSPC).as_str(), "ERR_IPC_LIMIT");
        assert_eq!(Code::from_errno(libc::EXDEV).as_str(), "ERR_IPC_OS");
    }

    #[test]
    fn os_error_keeps_errno_and_syscall() {
        let e = IpcError::os("shm_open", libc::EEXIST, "/x");
        assert_eq!(e.errno, Some(libc::EEXIST));
        assert_eq!(e.syscall, Some("shm_open"));
        assert!(e.message.starts_with("shm_open /x:"));
    }
}
