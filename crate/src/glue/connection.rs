//! Connection's native part: `Pipe()` as socketpair(2). The bytes themselves flow through the
//! runtime's own socket machinery (libuv in Node), which measurement showed needs no help.

use super::convert::OrNapi;
use crate::socketpair;
use napi_derive::napi;
use std::os::fd::IntoRawFd;

/// Two connected stream-socket descriptors; the caller owns both (net.Socket takes them over).
#[napi]
pub fn socket_pair() -> napi::Result<Vec<i32>> {
    let (a, b) = socketpair::stream_pair().or_napi()?;
    Ok(vec![a.into_raw_fd(), b.into_raw_fd()])
}
