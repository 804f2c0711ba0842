//! Development tool: runs the engine on samples/qa_dev.jsonl against the FAQ base
//! of samples/faq_part*.jsonl (with the starter similar questions), prints the figures of both halves, the misses, and
//! a logistic confidence model fitted on the tuning half (odd lines).
//!
//! cargo run --release -p greenbridge-qa --example tune [-- --misses]

use greenbridge_qa::eval::{EvalQuestion, evaluate, parse_questions, split_halves};
use greenbridge_qa::{Engine, Entry, FEATURES, Filters, Params};

fn load_faq() -> Vec<Entry> {
    greenbridge_qa::similar::sample_entries(&[
        include_str!("../../../samples/faq_part1.jsonl"),
        include_str!("../../../samples/faq_part2.jsonl"),
    ])
}

fn objective(engine: &Engine, qs: &[greenbridge_qa::eval::EvalQuestion]) -> f64 {
    let mut v = 0.0;
    for q in qs.iter().filter(|q| !q.expected.is_empty()) {
        let r = engine.rank(&q.question, &Filters::default());
        if let Some(pos) = r.iter().take(10).position(|(i, _)| {
            engine.entries()[*i]
                .source_id
                .as_ref()
                .is_some_and(|s| q.expected.contains(s))
        }) {
            v += 1.0 / (pos as f64 + 1.0);
            if pos == 0 {
                v += 1.0;
            }
            // the margin of a right first answer
            if pos == 0 {
                v += 0.5 * r[0].1.relative_lead;
            }
        }
    }
    v
}

/// The default parameters with `SET=name=value,…` applied (for trying a value).
fn base_params() -> Params {
    let mut p = Params::default();
    for pair in std::env::var("SET").unwrap_or_default().split(',') {
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        let v: f64 = value.parse().expect("a number");
        match name {
            "k1" => p.k1 = v,
            "b" => p.b = v,
            "word_share" => p.word_share = v,
            "reverse_weight" => p.reverse_weight = v,
            "topic_weight" => p.topic_weight = v,
            "context_weight" => p.context_weight = v,
            "homophone_discount" => p.homophone_discount = v,
            "function_weight" => p.function_weight = v,
            "alias_weight" => p.alias_weight = v,
            "unseen_weight" => p.unseen_weight = v,
            "matched_content_cap" => p.matched_content_cap = v,
            "similar_words" => p.word_fields[3] = v,
            "similar_bigrams" => p.bigram_fields[3] = v,
            _ => panic!("unknown parameter {name}"),
        }
    }
    p
}

fn search(entries: &[Entry], qs: &[greenbridge_qa::eval::EvalQuestion]) -> Params {
    let mut best = base_params();
    let mut best_v = objective(&Engine::with_params(entries.to_vec(), best.clone()), qs);
    for round in 0..2 {
        for knob in 0..14 {
            let candidates: Vec<f64> = match knob {
                0 => vec![0.8, 1.2, 2.0],
                1 => vec![0.2, 0.35, 0.5, 0.75],
                2 => vec![0.2, 0.3, 0.45, 0.6, 0.8],
                3 => vec![0.1, 0.2, 0.35, 0.5, 0.7],
                4 => vec![0.1, 0.2, 0.3, 0.45, 0.6],
                5 => vec![0.1, 0.2, 0.35, 0.5, 0.7],
                6 => vec![0.3, 0.4, 0.5, 0.6, 0.7],
                7 => vec![0.3, 0.6, 0.9, 1.2],
                8 => vec![0.0, 0.25, 0.5, 1.0, 2.0, 3.0],
                9 => vec![0.0, 0.25, 0.5, 1.0],
                10 => vec![0.0, 0.2, 0.4, 0.6, 1.0],
                11 => vec![0.3, 0.5, 0.7, 0.85, 1.0],
                12 => vec![0.0, 0.5, 0.7, 0.85, 1.0],
                _ => vec![0.1, 0.25, 0.5, 0.75, 1.0],
            };
            for c in candidates {
                let mut p = best.clone();
                match knob {
                    0 => p.k1 = c,
                    1 => p.b = c,
                    2 => p.word_fields[1] = c,
                    3 => p.word_fields[2] = c,
                    4 => p.bigram_fields[1] = c,
                    5 => p.bigram_fields[2] = c,
                    6 => p.word_share = c,
                    7 => p.unseen_weight = c,
                    8 => p.reverse_weight = c,
                    9 => p.alias_weight = c,
                    10 => p.topic_weight = c,
                    11 => p.context_weight = c,
                    12 => p.homophone_discount = c,
                    _ => p.function_weight = c,
                }
                let v = objective(&Engine::with_params(entries.to_vec(), p.clone()), qs);
                if v > best_v + 1e-9 {
                    best_v = v;
                    best = p;
                }
            }
        }
        println!("round {round}: {best_v:.2} {best:?}");
    }
    best
}

fn main() {
    let show_misses = std::env::args().any(|a| a == "--misses");
    let entries = load_faq();
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--ask") {
        let params = base_params();
        let engine = Engine::with_params(entries.clone(), params.clone());
        for q in &args[pos + 1..] {
            println!("{q}");
            for (i, f) in engine.rank(q, &Filters::default()).iter().take(3) {
                println!(
                    "  {} p={:.3} {:?} {}",
                    engine.entries()[*i].source_id.clone().unwrap_or_default(),
                    f.probability(&params),
                    f.vector().map(|x| (x * 1000.0).round() / 1000.0),
                    engine.entries()[*i].question
                );
            }
        }
        return;
    }
    let questions = parse_questions(include_str!("../../../samples/qa_dev.jsonl")).unwrap();
    let (tune, held) = split_halves(&questions);
    // What the ranking search and the confidence fit learn from: the tuning half,
    // or with CALIBRATION=FILE a question set written apart from the development
    // set (then both halves of the development set are held out), plus the
    // tuning half when WITH_TUNE=1.
    let train: Vec<EvalQuestion> = match std::env::var("CALIBRATION") {
        Ok(path) => {
            let text = std::fs::read_to_string(&path).expect("the calibration file");
            let mut set = parse_questions(&text).expect("calibration questions");
            if std::env::var("WITH_TUNE").is_ok() {
                set.extend(tune.iter().cloned());
            }
            set
        }
        Err(_) => tune.clone(),
    };
    let params = if std::env::args().any(|a| a == "--search") {
        search(&entries, &train)
    } else {
        base_params()
    };
    let engine_params = params.clone();
    let engine = Engine::with_params(entries.clone(), params);
    let train_misses = std::env::args().any(|a| a == "--train-misses");
    for (name, set) in [
        ("train", &train),
        ("tune", &tune),
        ("held", &held),
        ("all", &questions),
    ] {
        let r = evaluate(&engine, set);
        println!(
            "{name:5} n={:3} top1={:.3} top3={:.3} declines={:.3} ({} unans) conf_wrong={} p50={:.2}ms p99={:.2}ms",
            r.questions,
            r.top1,
            r.top3,
            r.correct_declines,
            r.unanswerable,
            r.confident_wrong,
            r.latency_p50_ms,
            r.latency_p99_ms
        );
        if (show_misses && name == "all") || (train_misses && name == "train") {
            for o in &r.outcomes {
                let bad = if o.expected.is_empty() {
                    o.confident
                } else {
                    !o.top1
                };
                if bad {
                    println!(
                        "  L{:3} {:12} conf={} s={:.2} exp={:?} got={:?} {}",
                        o.line,
                        o.style.clone().unwrap_or_default(),
                        o.confident,
                        o.score,
                        o.expected,
                        o.ranked,
                        o.question
                    );
                }
            }
        }
    }
    if let Ok(path) = std::env::var("FEATURES_OUT") {
        let mut out = String::new();
        let calibration: Vec<EvalQuestion> = if std::env::var("CALIBRATION").is_ok() {
            train
                .iter()
                .filter(|q| !tune.contains(q))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        let tagged: Vec<(String, &EvalQuestion)> = questions
            .iter()
            .enumerate()
            .map(|(k, q)| ((k % 2).to_string(), q))
            .chain(calibration.iter().map(|q| ("c".to_string(), q)))
            .collect();
        for (half, q) in &tagged {
            if let Some((i, f)) = engine.rank(&q.question, &Filters::default()).first() {
                let right = engine.entries()[*i]
                    .source_id
                    .as_ref()
                    .is_some_and(|s| q.expected.contains(s));
                let label = if q.expected.is_empty() {
                    "none"
                } else if right {
                    "right"
                } else {
                    "wrong"
                };
                let v: Vec<String> = f.vector().iter().map(|x| format!("{x:.4}")).collect();
                out += &format!("{}\t{}\t{}\t{}\n", half, label, v.join(","), q.question);
            }
        }
        // and every answerable question asked of the base without its right entries
        for (half, q) in &tagged {
            if q.expected.is_empty() {
                continue;
            }
            if let Some(f) = first_without_its_entries(&entries, &engine_params, q) {
                let v: Vec<String> = f.vector().iter().map(|x| format!("{x:.4}")).collect();
                out += &format!("{}\tloo\t{}\t{}\n", half, v.join(","), q.question);
            }
        }
        std::fs::write(path, out).unwrap();
    }
    // Fit the logistic confidence on the tuning half: label 1 when the first
    // ranked entry is right.
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for q in &train {
        let ranked = engine.rank(&q.question, &Filters::default());
        if let Some((i, f)) = ranked.first() {
            let right = engine.entries()[*i]
                .source_id
                .as_ref()
                .is_some_and(|s| q.expected.contains(s));
            xs.push(f.vector());
            let _ = held.len();
            ys.push(if right { 1.0 } else { 0.0 });
            if std::env::args().any(|a| a == "--features") {
                println!(
                    "{} {:?} {}",
                    right as u8,
                    f.vector().map(|x| (x * 1000.0).round() / 1000.0),
                    q.question
                );
            }
        }
    }
    // Leave-one-out negatives: each entry's own question asked of the base without
    // it (a question in the domain that the base does not hold).
    let loo_weight: f64 = std::env::var("LOO")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let mut ws: Vec<f64> = vec![1.0; xs.len()];
    if loo_weight > 0.0 {
        for k in 0..entries.len() {
            let mut rest = entries.clone();
            let e = rest.remove(k);
            let eng = Engine::with_params(rest, engine_params.clone());
            if let Some((_, f)) = eng.rank(&e.question, &Filters::default()).first() {
                xs.push(f.vector());
                ys.push(0.0);
                ws.push(loo_weight);
            }
        }
    }
    // Leave-one-out negatives from the tuning questions: each answerable question
    // asked of the base without its right entries (a realistic question in the
    // domain that the base does not hold).
    let looq_weight: f64 = std::env::var("LOOQ")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    if looq_weight > 0.0 {
        for q in train.iter().filter(|q| !q.expected.is_empty()) {
            if let Some(f) = first_without_its_entries(&entries, &engine_params, q) {
                xs.push(f.vector());
                ys.push(0.0);
                ws.push(looq_weight);
            }
        }
    }
    const D: usize = FEATURES;
    let n = ws.iter().sum::<f64>();
    let mut mean = [0.0f64; D];
    let mut sd = [0.0f64; D];
    for (x, wt) in xs.iter().zip(&ws) {
        for k in 0..D {
            mean[k] += wt * x[k] / n;
        }
    }
    for (x, wt) in xs.iter().zip(&ws) {
        for k in 0..D {
            sd[k] += wt * (x[k] - mean[k]).powi(2) / n;
        }
    }
    for value in sd.iter_mut() {
        *value = value.sqrt().max(1e-9);
    }
    let zs: Vec<[f64; D]> = xs
        .iter()
        .map(|x| {
            let mut z = [0.0; D];
            for k in 0..D {
                z[k] = (x[k] - mean[k]) / sd[k];
            }
            z
        })
        .collect();
    let l2: f64 = std::env::var("L2")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.01);
    // Signs that make sense; SIGNS=1,0,-1,… (one per feature) overrides them.
    let mut signs: [f64; FEATURES] = [
        1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, -1.0, -1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
        1.0,
    ];
    if let Ok(v) = std::env::var("SIGNS") {
        for (k, x) in v.split(',').enumerate().take(FEATURES) {
            signs[k] = x.trim().parse().unwrap_or(0.0);
        }
    }
    let mut w = [0.0f64; D + 1];
    for _ in 0..20000 {
        let mut g = [0.0f64; D + 1];
        for ((x, y), wt) in zs.iter().zip(&ys).zip(&ws) {
            let z = w[0] + (0..D).map(|k| w[k + 1] * x[k]).sum::<f64>();
            let p = 1.0 / (1.0 + (-z).exp());
            let e = (p - y) * wt;
            g[0] += e;
            for k in 0..D {
                g[k + 1] += e * x[k];
            }
        }
        for k in 0..=D {
            let reg = if k == 0 { 0.0 } else { l2 * w[k] };
            w[k] -= 0.5 * (g[k] / n + reg);
        }
        // Signs that make sense (more coverage, more lead: more confidence; words the
        // base lacks: less); 0 leaves a feature out.
        for k in 0..D {
            if w[k + 1] * signs[k] < 0.0 || signs[k] == 0.0 {
                w[k + 1] = 0.0;
            }
        }
    }
    // Back to raw features.
    let mut raw = [0.0f64; D + 1];
    raw[0] = w[0];
    for k in 0..D {
        raw[k + 1] = w[k + 1] / sd[k];
        raw[0] -= w[k + 1] * mean[k] / sd[k];
    }
    println!(
        "fitted confidence: {:?}",
        raw.map(|x| (x * 100.0).round() / 100.0)
    );
    // Move the intercept so that CONFIDENT_THRESHOLD sits at the cut that answers
    // the most training questions right while declining at least RULE (default
    // 0.9) of the training questions the base cannot answer.
    let rule: f64 = std::env::var("RULE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.9);
    let probe = {
        let mut p = engine_params.clone();
        p.confidence = raw;
        Engine::with_params(entries.clone(), p)
    };
    // CUT_ON=tune: the cut is set on the tuning half of the development set (the
    // questions written like those the targets are measured on), the weights
    // still on the whole training set.
    let cut_set = if std::env::var("CUT_ON").is_ok_and(|v| v == "tune") {
        &tune
    } else {
        &train
    };
    let scored: Vec<(f64, bool, bool)> = cut_set
        .iter()
        .filter_map(|q| {
            let r = probe.rank(&q.question, &Filters::default());
            let (i, f) = r.first()?;
            let right = probe.entries()[*i]
                .source_id
                .as_ref()
                .is_some_and(|s| q.expected.contains(s));
            Some((
                f.probability(&probe_params(&engine_params, raw)),
                q.expected.is_empty(),
                right,
            ))
        })
        .collect();
    let negatives = scored.iter().filter(|s| s.1).count().max(1) as f64;
    let mut cut: Option<(f64, usize)> = None;
    let mut cuts: Vec<f64> = scored.iter().map(|s| s.0).collect();
    cuts.sort_by(f64::total_cmp);
    for t in cuts {
        let declined = scored.iter().filter(|s| s.1 && s.0 < t).count() as f64 / negatives;
        let right = scored.iter().filter(|s| !s.1 && s.2 && s.0 >= t).count();
        if declined >= rule && cut.is_none_or(|c| right > c.1) {
            cut = Some((t, right));
        }
    }
    if let Some((t, _)) = cut {
        let logit = |p: f64| (p.clamp(1e-6, 1.0 - 1e-6) / (1.0 - p.clamp(1e-6, 1.0 - 1e-6))).ln();
        // The cut is the score of the lowest question answered: a hundredth of a
        // logit below it, so that the weights as rounded for the source (three
        // decimals) still answer that question.
        let at = logit(t) - 0.01;
        raw[0] -= at - logit(greenbridge_qa::CONFIDENT_THRESHOLD);
        println!(
            "cut at {t:.3} (training declines >= {rule}): {:?}",
            raw.map(|x| (x * 1000.0).round() / 1000.0)
        );
    }
    let mut fitted = engine_params.clone();
    fitted.confidence = raw;
    let engine2 = Engine::with_params(entries.clone(), fitted);
    for (name, set) in [
        ("train", &train),
        ("tune", &tune),
        ("held", &held),
        ("all", &questions),
    ] {
        let r = evaluate(&engine2, set);
        println!(
            "fitted {name:5} top1={:.3} top3={:.3} declines={:.3} conf_wrong={}",
            r.top1, r.top3, r.correct_declines, r.confident_wrong
        );
    }
    // threshold sweep on the probabilities of the first entry
    for name_set in [
        ("train", &train),
        ("tune", &tune),
        ("held", &held),
        ("all", &questions),
    ] {
        let (name, set) = name_set;
        let mut line = format!("sweep {name}:");
        for t in [0.4, 0.45, 0.5, 0.52, 0.54, 0.56, 0.58, 0.6, 0.65, 0.7, 0.8] {
            let (mut a, mut na, mut d, mut nd) = (0, 0, 0, 0);
            for q in set.iter() {
                let r = engine2.rank(&q.question, &Filters::default());
                let p = r.first().map_or(0.0, |(_, f)| {
                    let c = &engine2_params_conf(&raw);
                    let z = c[0]
                        + f.vector()
                            .iter()
                            .zip(&c[1..])
                            .map(|(x, w)| x * w)
                            .sum::<f64>();
                    1.0 / (1.0 + (-z).exp())
                });
                let right = r.first().is_some_and(|(i, _)| {
                    engine2.entries()[*i]
                        .source_id
                        .as_ref()
                        .is_some_and(|s| q.expected.contains(s))
                });
                if q.expected.is_empty() {
                    nd += 1;
                    if p < t {
                        d += 1;
                    }
                } else {
                    na += 1;
                    if p >= t && right {
                        a += 1;
                    }
                }
            }
            line += &format!(
                " t={t}: {:.2}/{:.2}",
                a as f64 / na as f64,
                d as f64 / nd as f64
            );
        }
        println!("{line}");
    }
    let ok = ranked_first_right(&engine, &questions);
    println!("ranked first right (answerable): {ok}");
}

fn ranked_first_right(engine: &Engine, qs: &[greenbridge_qa::eval::EvalQuestion]) -> String {
    let mut n = 0;
    let mut ok = 0;
    for q in qs.iter().filter(|q| !q.expected.is_empty()) {
        n += 1;
        if let Some((i, _)) = engine.rank(&q.question, &Filters::default()).first()
            && engine.entries()[*i]
                .source_id
                .as_ref()
                .is_some_and(|s| q.expected.contains(s))
        {
            ok += 1;
        }
    }
    format!("{ok}/{n}")
}

fn engine2_params_conf(raw: &[f64; FEATURES + 1]) -> [f64; FEATURES + 1] {
    *raw
}

fn probe_params(params: &Params, raw: [f64; FEATURES + 1]) -> Params {
    let mut p = params.clone();
    p.confidence = raw;
    p
}

/// The match features of the first entry for `q` when the base lacks the
/// entries that answer it: a realistic question the base cannot answer.
fn first_without_its_entries(
    entries: &[Entry],
    params: &Params,
    q: &EvalQuestion,
) -> Option<greenbridge_qa::MatchFeatures> {
    let rest: Vec<Entry> = entries
        .iter()
        .filter(|e| !e.source_id.as_ref().is_some_and(|s| q.expected.contains(s)))
        .cloned()
        .collect();
    let engine = Engine::with_params(rest, params.clone());
    engine
        .rank(&q.question, &Filters::default())
        .first()
        .map(|(_, f)| *f)
}
