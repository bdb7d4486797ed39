//! The authorization-code machine under arbitrary server behaviours and input orders.
//!
//! The invariants are asserted inside `run_auth_code_ops` (shared with the fuzz
//! target): no panic; no request before a callback whose `state` and `iss` matched;
//! at most one request, only to the token endpoint, carrying the verifier that hashes
//! to the URL's challenge; tokens only after such a callback; `Done` never changes;
//! no state or code in the flow's `Debug`.

use oauth_testkit::Fault;
use oauth_testkit::fuzzing::{Canned, Op, Tamper, run_auth_code_ops};
use proptest::prelude::*;

fn tamper() -> impl Strategy<Value = Tamper> {
    prop_oneof![
        Just(Tamper::FlipState),
        Just(Tamper::DropState),
        Just(Tamper::WrongIssuer),
        Just(Tamper::DropIssuer),
        Just(Tamper::DuplicateCode),
        Just(Tamper::InjectAccessToken),
        Just(Tamper::AddError),
        Just(Tamper::OtherPath),
        Just(Tamper::SwapCode),
    ]
}

fn canned() -> impl Strategy<Value = Canned> {
    prop_oneof![
        Just(Canned::Tokens),
        Just(Canned::InvalidGrant),
        Just(Canned::ErrorIn200),
        Just(Canned::ServerError),
        Just(Canned::Redirect),
        Just(Canned::Garbage),
    ]
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        Just(Fault::InternalError),
        (0u64..120).prop_map(|retry_after| Fault::ServiceUnavailable { retry_after }),
        Just(Fault::TruncatedBody),
        Just(Fault::GarbageBody),
        Just(Fault::OversizedBody(2 << 20)),
        Just(Fault::ConnectionRefused),
        Just(Fault::ResponseLost),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Poll),
        2 => Just(Op::Approve),
        1 => Just(Op::Deny),
        2 => tamper().prop_map(Op::Tampered),
        1 => proptest::collection::vec(any::<u8>(), 0..48).prop_map(Op::Forged),
        2 => Just(Op::Deliver),
        1 => canned().prop_map(Op::Canned),
        1 => Just(Op::TransportFails),
        1 => (-700i64..700).prop_map(Op::ClockJump),
        1 => fault().prop_map(Op::ServerFault),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn invariants_hold_for_any_interleaving(
        seed in any::<u64>(),
        confidential in any::<bool>(),
        ops in proptest::collection::vec(op(), 0..40),
    ) {
        let report = run_auth_code_ops(seed, confidential, &ops);
        prop_assert!(report.requests_sent <= 1);
        if report.got_tokens {
            prop_assert_eq!(report.final_state, "Done");
        }
    }

    /// The happy path survives any amount of polling between steps and any harmless
    /// clock movement before the callback.
    #[test]
    fn happy_path_with_extra_polls_gets_tokens(
        seed in any::<u64>(),
        confidential in any::<bool>(),
        extra_polls in 0usize..5,
        jump in 0i64..600,
    ) {
        let mut ops = vec![Op::Poll; 1 + extra_polls];
        ops.push(Op::ClockJump(jump));
        ops.push(Op::Approve);
        ops.extend(std::iter::repeat_n(Op::Poll, 1 + extra_polls));
        ops.push(Op::Deliver);
        ops.push(Op::Poll);
        let report = run_auth_code_ops(seed, confidential, &ops);
        prop_assert!(report.got_tokens, "{:?}", report);
        prop_assert_eq!(report.requests_sent, 1);
    }

    /// Any tampering with the callback's state or issuer, or injection of a token,
    /// means no tokens and no request.
    #[test]
    fn tampered_callbacks_never_yield_tokens(
        seed in any::<u64>(),
        t in prop_oneof![
            Just(Tamper::FlipState), Just(Tamper::DropState), Just(Tamper::WrongIssuer),
            Just(Tamper::DropIssuer), Just(Tamper::DuplicateCode), Just(Tamper::InjectAccessToken),
            Just(Tamper::AddError), Just(Tamper::OtherPath),
        ],
    ) {
        let ops = [Op::Poll, Op::Poll, Op::Tampered(t), Op::Poll, Op::Deliver, Op::Poll];
        let report = run_auth_code_ops(seed, false, &ops);
        prop_assert!(!report.got_tokens);
        prop_assert_eq!(report.requests_sent, 0);
        prop_assert_eq!(report.final_state, "Failed");
    }
}
