use super::*;
use crate::wait::deadline_after;

fn private(max_bytes: Option<u64>) -> SysVQueue {
    open(
        libc::IPC_PRIVATE,
        &OpenOptions {
            create: true,
            exclusive: true,
            mode: 0o600,
            max_bytes,
        },
    )
    .unwrap()
}

fn take(b: &[u8], t: i64) -> (Vec<u8>, i64) {
    (b.to_vec(), t)
}

#[test]
fn type_selection_follows_msgrcv() {
    let q = private(None);
    for (data, ty) in [(b"a", 3), (b"b", 1), (b"c", 2), (b"d", 1)] {
        assert!(q.try_send(data, ty).unwrap());
    }
    assert_eq!(q.stats().unwrap().messages, 4);
    assert_eq!(
        q.try_receive_with(2, take).unwrap().unwrap(),
        (b"c".to_vec(), 2)
    );
    assert_eq!(
        q.try_receive_with(-3, take).unwrap().unwrap(),
        (b"b".to_vec(), 1)
    );
    assert_eq!(
        q.try_receive_with(0, take).unwrap().unwrap(),
        (b"a".to_vec(), 3)
    );
    assert!(q.try_receive_with(5, take).unwrap().is_none());
    assert_eq!(
        q.try_receive_with(0, take).unwrap().unwrap(),
        (b"d".to_vec(), 1)
    );
    q.remove().unwrap();
    assert_eq!(q.try_send(b"x", 1).unwrap_err().code, Code::NotFound);
}

#[test]
fn bad_input_and_limits() {
    let q = private(Some(100));
    assert_eq!(q.stats().unwrap().max_bytes, 100);
    assert_eq!(q.try_send(b"x", 0).unwrap_err().code, Code::InvalidArgument);
    assert_eq!(
        q.try_send(&vec![0; q.msgmax() + 1], 1).unwrap_err().code,
        Code::TooLarge
    );
    assert!(q.try_send(&[0; 60], 1).unwrap());
    assert!(!q.try_send(&[0; 60], 1).unwrap());
    assert_eq!(q.try_send(&[0; 101], 1).unwrap_err().code, Code::TooLarge);
    let e = q
        .send_sync(&[0; 60], 1, deadline_after(Some(10.0)))
        .unwrap_err();
    assert_eq!(e.code, Code::Timeout);
    let mut buf = vec![0u8; HEADER + q.msgmax()];
    let e = q
        .receive_sync_into(&mut buf, 7, deadline_after(Some(10.0)))
        .unwrap_err();
    assert_eq!(e.code, Code::Timeout);
    q.remove().unwrap();
    let e = open(
        libc::IPC_PRIVATE,
        &OpenOptions {
            create: true,
            exclusive: true,
            mode: 0o600,
            max_bytes: Some(msgmnb() + 1),
        },
    )
    .unwrap_err();
    assert_eq!(e.code, Code::Limit);
    assert_eq!(
        key_from_path("/", 0).unwrap_err().code,
        Code::InvalidArgument
    );
    assert_eq!(
        key_from_path("/nonexistent/x", 1).unwrap_err().code,
        Code::NotFound
    );
}
