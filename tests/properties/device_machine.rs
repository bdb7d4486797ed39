//! The device-flow polling machine under arbitrary answers and clock jumps: it never
//! polls faster than allowed (the interval, +5 s per `slow_down`, doubled after a
//! connection failure, never less), never after a terminal answer, never after its
//! deadline, and never panics.

use oauth_core::{
    ClientRegistration, DeviceFlow, Flow, HttpResponse, Input, Output, Scope, TransportErrorKind,
    TransportFailure, UnixTime,
};
use proptest::prelude::*;

#[derive(Clone, Copy, Debug)]
enum Answer {
    Pending,
    SlowDown,
    Denied,
    Expired,
    OtherError,
    ServerError,
    Tokens,
    Transport,
}

#[derive(Clone, Debug)]
enum Op {
    /// Move the clock (negative: backwards) and tick.
    Jump(i64),
    /// Answer the outstanding poll, if any, with this.
    Answer(Answer),
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        6 => Just(Answer::Pending),
        2 => Just(Answer::SlowDown),
        1 => Just(Answer::Denied),
        1 => Just(Answer::Expired),
        1 => Just(Answer::OtherError),
        1 => Just(Answer::ServerError),
        1 => Just(Answer::Tokens),
        2 => Just(Answer::Transport),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (-120i64..240).prop_map(Op::Jump),
        2 => answer().prop_map(Op::Answer),
    ]
}

fn json(status: u16, body: &str) -> HttpResponse {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec())
        .unwrap()
}

fn respond(a: Answer) -> Input {
    let err = |code: &str| Input::Response(json(400, &format!(r#"{{"error":"{code}"}}"#)));
    match a {
        Answer::Pending => err("authorization_pending"),
        Answer::SlowDown => err("slow_down"),
        Answer::Denied => err("access_denied"),
        Answer::Expired => err("expired_token"),
        Answer::OtherError => err("invalid_grant"),
        Answer::ServerError => Input::Response(json(500, "")),
        Answer::Tokens => {
            Input::Response(json(200, r#"{"access_token":"at","token_type":"Bearer"}"#))
        }
        Answer::Transport => {
            Input::TransportFailed(TransportFailure::new(TransportErrorKind::Timeout, "t"))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn polling_respects_interval_terminal_answers_and_deadline(
        interval in proptest::option::of(0u64..12),
        expires_in in 20u64..400,
        ops in proptest::collection::vec(op(), 0..80),
    ) {
        let client = ClientRegistration::builder("dev")
            .token_endpoint("https://as.example/token")
            .device_authorization_endpoint("https://as.example/device_authorization")
            .build()
            .unwrap();
        let mut now = UnixTime::from_secs(1_000_000);
        let mut flow = DeviceFlow::start(&client, Scope::empty()).unwrap();
        let Output::Send(_) = flow.poll() else { panic!("the device authorization request first") };
        let interval_member = interval.map(|i| format!(r#","interval":{i}"#)).unwrap_or_default();
        let body = format!(
            r#"{{"device_code":"dc","user_code":"ABCD-EFGH","verification_uri":"https://as.example/device","expires_in":{expires_in}{interval_member}}}"#
        );
        flow.handle(Input::Response(json(200, &body)), now);
        let deadline = now.saturating_add(expires_in);
        let Output::ShowUserCode(code) = flow.poll() else { panic!("then the user code") };
        prop_assert_eq!(code.expires_at, deadline);

        // The model of the rules.
        let mut model_interval = match interval { None | Some(0) => 5, Some(i) => i };
        prop_assume!(model_interval <= expires_in);
        let mut last_answer = now;
        let mut outstanding = false;
        let mut terminated = false;

        for op in ops {
            match flow.poll() {
                Output::Send(req) => {
                    prop_assert!(!terminated, "a poll after a terminal answer");
                    prop_assert!(!outstanding);
                    prop_assert!(now < deadline, "a poll after the deadline");
                    prop_assert!(
                        now >= last_answer.saturating_add(model_interval),
                        "polled at {} after an answer at {} with interval {}",
                        now.as_secs(), last_answer.as_secs(), model_interval
                    );
                    prop_assert!(std::str::from_utf8(req.body()).unwrap().contains("device_code=dc"));
                    outstanding = true;
                }
                Output::WaitUntil(t) => {
                    prop_assert!(!outstanding);
                    prop_assert!(t <= deadline);
                }
                Output::AwaitResponse => prop_assert!(outstanding),
                Output::Done(_) => {
                    terminated = true;
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
            match op {
                Op::Jump(secs) => {
                    now = if secs >= 0 { now.saturating_add(secs as u64) } else { now.saturating_sub(secs.unsigned_abs()) };
                    flow.handle(Input::Tick, now);
                }
                Op::Answer(a) if outstanding => {
                    outstanding = false;
                    last_answer = now;
                    match a {
                        Answer::Pending => {}
                        Answer::SlowDown => model_interval += 5,
                        Answer::Transport => model_interval = model_interval.max((model_interval * 2).min(60)),
                        _ => terminated = true,
                    }
                    flow.handle(respond(a), now);
                }
                Op::Answer(_) => {}
            }
        }
        if terminated {
            prop_assert!(matches!(flow.poll(), Output::Done(_)));
        }
    }
}
