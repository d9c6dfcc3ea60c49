//! Scenarios end to end over small programs: times, lateness, sources, `until`, `only`,
//! stand-ins, dead letters, and the checks against the program.

use super::*;
use crate::world::Resources;
use nudge_grammar::Sources;

const SCHEMA: &str = "
input
  lateness 5s
  key user_id
event VIEW { user_id: string, session: string, price: float, qty: int }
event ADD_TO_CART { user_id: string, product_id: string }
event PURCHASE { user_id: string }
";

const CART: &str = "
pattern cart
  when ADD_TO_CART as c
  then not PURCHASE within 15m
  emit { product_id: c.product_id, from: c.source }
";

fn plan(program: &str) -> Arc<Plan> {
    let compiled = nudge_compiler::compile_str("p.nudge", &format!("{SCHEMA}{program}"));
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    Arc::new(compiled.plan.unwrap())
}

fn world(plan: &Plan) -> Arc<dyn World + Send + Sync> {
    Arc::new(Resources::load(plan).unwrap().0)
}

/// The snapshot of `scenario` over `program`.
fn snap(program: &str, scenario: &str) -> String {
    let plan = plan(program);
    match snapshot_of(&plan, &world(&plan), FileId(0), scenario) {
        Ok(s) => s,
        Err(Failure::Invalid(d)) => panic!("{d:#?}"),
        Err(Failure::Io(e)) => panic!("{e}"),
    }
}

/// The codes and messages of a bad scenario.
fn invalid(program: &str, scenario: &str) -> Vec<String> {
    let plan = plan(program);
    let mut sources = Sources::new();
    let file = sources.add("t.scenario", scenario);
    match snapshot_of(&plan, &world(&plan), file, scenario) {
        Err(Failure::Invalid(ds)) => ds
            .iter()
            .map(|d| {
                let (l, c) = sources.line_col(file, d.span().start);
                let help = d
                    .help
                    .as_deref()
                    .map_or(String::new(), |h| format!(" ({h})"));
                format!("{} {l}:{c} {}{help}", d.code, d.message)
            })
            .collect(),
        other => panic!("expected errors, got {other:?}"),
    }
}

#[test]
fn fires_at_the_deadline_relative_to_start() {
    let s = snap(
        CART,
        "start 2026-11-27T10:00:00Z\n+0s ADD_TO_CART user_id=u1 product_id=p1\n",
    );
    assert_eq!(
        s,
        "start 2026-11-27T10:00:00Z\n\
         +15m  cart  key=\"u1\"  product_id=\"p1\" from=\"scenario\"\n"
    );
}

#[test]
fn a_purchase_in_time_cancels_and_one_at_the_deadline_does_not() {
    let head = "start 2026-11-27T10:00:00Z\n10:00 ADD_TO_CART user_id=u1 product_id=p1\n";
    let cancelled = snap(CART, &format!("{head}10:14:59 PURCHASE user_id=u1\n"));
    assert_eq!(cancelled, "start 2026-11-27T10:00:00Z\nno records\n");
    let too_late = snap(CART, &format!("{head}+15m PURCHASE user_id=u1\n"));
    assert!(too_late.contains("+15m  cart"), "{too_late}");
}

#[test]
fn an_earlier_time_is_an_out_of_order_or_late_arrival() {
    // 10:20 moves the watermark to 10:19:55: a purchase at 10:10 is late (it cancels
    // nothing), one at 10:19:58 is out of order but within the lateness.
    let late = snap(
        CART,
        "start 2026-11-27T10:00:00Z\n\
         10:00 ADD_TO_CART user_id=u1 product_id=p1\n\
         10:20 VIEW user_id=u2\n\
         10:10 PURCHASE user_id=u1   # arrives late\n",
    );
    assert_eq!(
        late,
        "start 2026-11-27T10:00:00Z\n\
         +15m  cart  key=\"u1\"  product_id=\"p1\" from=\"scenario\"\n\
         dead letter (late) from line 4: 10:10 PURCHASE user_id=u1\n"
    );
    let in_time = snap(
        CART,
        "start 2026-11-27T10:00:00Z\n\
         10:10 ADD_TO_CART user_id=u1 product_id=p1\n\
         10:25:03 VIEW user_id=u2\n\
         10:24:59 PURCHASE user_id=u1\n",
    );
    assert_eq!(in_time, "start 2026-11-27T10:00:00Z\nno records\n");
}

#[test]
fn sources_are_inputs_in_arrival_order() {
    // Each input has its own watermark: the purchase from `app` is not late although
    // the web input is already past it.
    let timeline = "00:00 ADD_TO_CART user_id=u1 product_id=p1 source=web\n\
                    00:20 VIEW user_id=u2 source=web\n\
                    00:10 PURCHASE user_id=u1 source=app\n";
    assert_eq!(
        snap(CART, timeline),
        "start 1970-01-01T00:00:00Z\nno records\n"
    );
    // From one input, the same purchase is late.
    let one_input = timeline
        .replace(" source=web", "")
        .replace(" source=app", "");
    assert!(snap(CART, &one_input).contains("dead letter (late) from line 3"));
    let s = snap(
        CART,
        "+0s ADD_TO_CART user_id=u1 product_id=p1 source=web\n+1m VIEW user_id=u1 source=\"app\"\n",
    );
    assert!(s.contains("from=\"web\""), "{s}");
}

#[test]
fn until_stops_event_time() {
    let s = snap(
        CART,
        "start 2026-11-27\n09:00 ADD_TO_CART user_id=u1 product_id=p1\nuntil 09:10\n",
    );
    assert_eq!(s, "start 2026-11-27T00:00:00Z\nno records\n");
    let s = snap(
        CART,
        "start 2026-11-27\n09:00 ADD_TO_CART user_id=u1 product_id=p1\nuntil +9h15m\n",
    );
    assert!(s.contains("+9h15m  cart"), "{s}");
}

#[test]
fn only_keeps_the_named_rules() {
    let both = format!("{CART}\npattern viewed when VIEW emit {{ n: 1 }}\n");
    let s = snap(
        &both,
        "only viewed\n+0s ADD_TO_CART user_id=u1 product_id=p1\n+1m VIEW user_id=u1\n",
    );
    assert_eq!(
        s,
        "start 1970-01-01T00:00:00Z\n+1m  viewed  key=\"u1\"  n=1\n"
    );
}

#[test]
fn values_are_typed_by_the_schema_and_misfits_are_dead_letters() {
    let echo =
        "pattern echo when VIEW as v emit { session: v.session, price: v.price, qty: v.qty }";
    let s = snap(
        echo,
        "+0s VIEW user_id=u1 session=0 price=49 qty=2\n+1s VIEW user_id=u1 qty=two\n",
    );
    assert_eq!(
        s,
        "start 1970-01-01T00:00:00Z\n\
         +0s  echo  key=\"u1\"  session=\"0\" price=49.0 qty=2\n\
         dead letter (wrong_type) from line 2: +1s VIEW user_id=u1 qty=two\n"
    );
}

const MODEL: &str = "
model ranker
  url \"http://127.0.0.1:9/rank\"
  fallback []
pattern ranked
  when VIEW
  emit { picks: ranker({ user: key }) }
";

#[test]
fn stand_ins_answer_model_calls() {
    let s = snap(
        MODEL,
        "model ranker returns [p2, \"p1\"]\n+0s VIEW user_id=u1\n",
    );
    assert_eq!(
        s,
        "start 1970-01-01T00:00:00Z\n\
         +0s  ranked  key=\"u1\"  picks=[\"p2\", \"p1\"]\n\
         model ranker called with {\"user\": \"u1\"}\n"
    );
}

#[test]
fn a_model_without_a_stand_in_fails_the_scenario() {
    assert_eq!(
        invalid(MODEL, "+0s VIEW user_id=u1\n"),
        ["S201 1:1 a rule calls the model `ranker`, and this scenario has no stand-in for it \
          (add a line such as `model ranker returns [\"p1\", \"p2\"]`: scenarios never call the network)"]
    );
}

#[test]
fn names_are_checked_against_the_program() {
    let errs = invalid(
        MODEL,
        "only rankd\nstart yesterday\nmodel rankr returns []\n\
         +0s VEIW user_id=u1\n\
         +0s VIEW usr_id=u1 ts=5 price=1 price=2 source=[x]\n",
    );
    assert_eq!(
        errs,
        [
            "S002 2:7 `yesterday` is not a start time nudge can read \
             (write 2026-11-27T10:00:00Z, 2026-11-27 10:00:00 UTC, or a date: 2026-11-27)",
            "S104 1:6 there is no rule `rankd` in the program (did you mean `ranked`?)",
            "S105 3:7 there is no model `rankr` in the program (did you mean `ranker`?)",
            "S101 4:5 there is no event type `VEIW` in the program (did you mean `VIEW`?)",
            "S102 5:10 the event type `VIEW` has no field `usr_id` (did you mean `user_id`?)",
            "S103 5:20 `ts` cannot be written in a line: the event's time comes from the start of the line",
            "S103 5:33 the field `price` is written twice in this line",
            "S106 5:48 `source` names the input the event came from \
             (write a word, such as source=app or source=\"mail-clicks\")",
        ]
    );
}

#[test]
fn only_rules_that_call_no_model_need_no_stand_in() {
    let program = format!("{MODEL}\npattern viewed when VIEW emit {{ n: 1 }}\n");
    let s = snap(
        &program,
        "only viewed\n+0s   VIEW  user_id=u1 price=\"4  2\"\n+1s VIEW user_id=u1\n",
    );
    assert_eq!(
        s,
        "start 1970-01-01T00:00:00Z\n+1s  viewed  key=\"u1\"  n=1\n\
         dead letter (wrong_type) from line 2: +0s VIEW user_id=u1 price=\"4  2\"\n"
    );
}

#[test]
fn relative_times() {
    assert_eq!(relative(3_600_000), "+1h");
    assert_eq!(relative(3_610_000), "+1h00m10s");
    assert_eq!(relative(90_000), "+1m30s");
    assert_eq!(relative(250), "+250ms");
    assert_eq!(relative(2 * 86_400_000 + 5), "+2d00h00m00s005ms");
}
