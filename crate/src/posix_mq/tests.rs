use super::*;
use crate::wait::deadline_after;

fn name(tag: &str) -> String {
    format!("/ipckit-rs-{tag}-{}", std::process::id())
}

fn small(create: bool, exclusive: bool) -> OpenOptions {
    OpenOptions {
        create,
        exclusive,
        max_messages: Some(4),
        message_size: Some(128),
        mode: 0o600,
    }
}

#[test]
fn priorities_come_out_highest_first() {
    let n = name("prio");
    let q = open(&n, &small(true, true)).unwrap();
    unlink(&n).unwrap();
    assert!(q.try_send(b"low", 1).unwrap());
    assert!(q.try_send(b"high", 9).unwrap());
    assert!(q.try_send(b"mid", 5).unwrap());
    assert_eq!(q.attributes().unwrap().current_messages, 3);
    assert_eq!(q.try_receive().unwrap().unwrap(), (b"high".to_vec(), 9));
    assert_eq!(q.try_receive().unwrap().unwrap(), (b"mid".to_vec(), 5));
    assert_eq!(q.try_receive().unwrap().unwrap(), (b"low".to_vec(), 1));
    assert!(q.try_receive().unwrap().is_none());
}

#[test]
fn full_queue_and_limits() {
    let n = name("full");
    let q = open(&n, &small(true, true)).unwrap();
    unlink(&n).unwrap();
    for _ in 0..4 {
        assert!(q.try_send(b"x", 0).unwrap());
    }
    assert!(!q.try_send(b"x", 0).unwrap());
    let e = q
        .send_sync(b"x", 0, deadline_after(Some(10.0)))
        .unwrap_err();
    assert_eq!(e.code, Code::Timeout);
    assert_eq!(q.try_send(&[0; 129], 0).unwrap_err().code, Code::TooLarge);
    assert_eq!(
        q.try_send(b"x", PRIO_MAX).unwrap_err().code,
        Code::InvalidArgument
    );
    let mut too_many = small(true, true);
    too_many.max_messages = Some(1_000_000);
    assert_eq!(open(&name("big"), &too_many).unwrap_err().code, Code::Limit);
}

#[test]
fn exclusive_and_missing() {
    let n = name("excl");
    let _q = open(&n, &small(true, true)).unwrap();
    assert_eq!(open(&n, &small(true, true)).unwrap_err().code, Code::Exists);
    assert!(open(&n, &small(true, false)).is_ok());
    unlink(&n).unwrap();
    assert_eq!(
        open(&n, &small(false, false)).unwrap_err().code,
        Code::NotFound
    );
    assert_eq!(unlink(&n).unwrap_err().code, Code::NotFound);
}
