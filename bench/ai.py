"""AI benchmark: intent accuracy and latency per backend, out-of-scope handover curve,
language detection, starter category model. `python -m bench.ai` prints a table and
writes the details to bench/results/ai-latest.json (git-ignored).

Data: Banking77 (PolyAI, CC BY 4.0) from ../shared/data or $HELPLINE_BENCH_DATA; the
language phrases and Bitext data ship inside the package.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from helpline.adapters.ai.interfaces import FloatArray
from helpline.adapters.ai.ngram import NgramClassifier
from helpline.adapters.ai.ood import OutOfScopeDetector
from helpline.ai.categories import CategoryClassifier, load_bitext_rows
from helpline.ai.confidence import handover_curve
from helpline.ai.language import SUPPORTED_LANGUAGES, LanguageIdentifier
from helpline.ai.text import strip_diacritics

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
UNKNOWN_INTENTS = 15
UNKNOWN_SEED = 77
VALIDATION_SHARE = 0.15
VALIDATION_SEED = 0
MIN_ANSWERED_CORRECT = 0.85
LATENCY_MESSAGES = 300
LANG_EVAL = ROOT / "src" / "helpline" / "ai_data" / "lang_eval"


def data_dir() -> Path:
    configured = os.environ.get("HELPLINE_BENCH_DATA")
    return Path(configured) if configured else ROOT.parent / "shared" / "data"


def load_banking77(split: str) -> tuple[list[str], list[str]]:
    with (data_dir() / "banking77" / f"{split}.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [row["text"] for row in rows], [row["category"] for row in rows]


def percentile_ms(samples: Sequence[float], q: float) -> float:
    return round(float(np.percentile(np.array(samples), q)) * 1000, 2)


def latency(predict_one: Callable[[str], object], texts: Sequence[str]) -> dict[str, float]:
    """Per-message latency, one message at a time: wall clock and CPU time of this process
    (CPU time shows the cost even when other work competes for the cores)."""
    for text in texts[:10]:
        predict_one(text)  # warm caches and lazy initialisation
    wall, cpu = [], []
    for text in texts:
        w0, c0 = time.perf_counter(), time.process_time()
        predict_one(text)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return {
        "p50_ms": percentile_ms(wall, 50),
        "p99_ms": percentile_ms(wall, 99),
        "cpu_p50_ms": percentile_ms(cpu, 50),
        "cpu_p99_ms": percentile_ms(cpu, 99),
    }


def scores(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    truth_array, predicted_array = np.array(truth), np.array(predicted)
    return {
        "accuracy": round(float((truth_array == predicted_array).mean()), 4),
        "macro_f1": round(float(f1_score(truth_array, predicted_array, average="macro")), 4),
    }


def worker_memory(kind: str, model_dir: Path, threads: int) -> dict[str, float]:
    """Peak resident memory of a fresh process that loads the model and answers one
    message: what each server worker pays for this backend."""
    output = subprocess.run(
        [sys.executable, "-m", "bench.ai", "--measure-memory", kind, str(model_dir)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": str(threads)},
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def _resident_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB, from /proc (ru_maxrss would
    carry the parent's peak across exec)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def measure_memory(kind: str, model_dir: Path) -> None:
    """Child side of `worker_memory` (prints JSON)."""
    before, _ = _resident_mb()
    if kind == "ngram":
        ngram = NgramClassifier.load(model_dir)
        ngram.predict(["where is my card?"])
    elif kind.startswith("language"):
        LanguageIdentifier(low_accuracy=kind.endswith("low")).detect("where is my card?")
    else:
        from helpline.adapters.ai.embedding import EnsembleClassifier

        ensemble = EnsembleClassifier.load(model_dir)
        ensemble.predict(["where is my card?"])
    after, peak = _resident_mb()
    print(
        json.dumps(
            {
                "rss_mb": round(after, 1),
                "peak_rss_mb": round(peak, 1),
                "model_mb": round(after - before, 1),
            }
        )
    )


class EmbeddingCache:
    """Embeddings of the benchmark texts, kept in bench/results so reruns skip encoding."""

    def __init__(self, embed: Callable[[Sequence[str]], FloatArray]) -> None:
        self.embed = embed

    def __call__(self, texts: Sequence[str]) -> FloatArray:
        key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:20]
        path = RESULTS / "cache" / f"minilm-{key}.npy"
        if path.exists():
            cached: FloatArray = np.load(path, allow_pickle=False)
            return cached
        vectors = self.embed(texts)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors, allow_pickle=False)
        return vectors


def bench_intents(threads: int, with_embeddings: bool) -> dict[str, Any]:
    train_x, train_y = load_banking77("train")
    test_x, test_y = load_banking77("test")
    latency_texts = test_x[:LATENCY_MESSAGES]
    results: dict[str, Any] = {}

    ngram = NgramClassifier()
    started = time.perf_counter()
    ngram.fit(train_x, train_y)
    train_seconds = time.perf_counter() - started
    probabilities = ngram.predict_proba(test_x)
    predicted = [ngram.labels[i] for i in probabilities.argmax(axis=1)]
    ngram_dir = RESULTS / "models" / "banking77-ngram"
    ngram.save(ngram_dir)
    results["ngram"] = {
        **scores(test_y, predicted),
        **latency(lambda text: ngram.predict([text]), latency_texts),
        **worker_memory("ngram", ngram_dir, threads),
        "train_seconds": round(train_seconds, 1),
    }
    print("n-gram:", results["ngram"], flush=True)
    if not with_embeddings:
        return results

    from helpline.adapters.ai.embedding import (
        EmbeddingClassifier,
        EnsembleClassifier,
        SentenceEmbedder,
    )

    embedder = SentenceEmbedder(threads=threads)
    cached = EmbeddingCache(embedder.embed)
    train_e, test_e = cached(train_x), cached(test_x)
    embedding = EmbeddingClassifier(embedder)
    embedding.fit_embedded(train_e, train_y)
    embedding_probabilities = embedding.predict_proba_embedded(test_e)
    results["embedding"] = scores(
        test_y, [embedding.labels[i] for i in embedding_probabilities.argmax(axis=1)]
    )
    results["embedding"].update(latency(lambda text: embedding.predict([text]), latency_texts))
    ensemble = EnsembleClassifier(ngram, embedding)
    ensemble_probabilities = ensemble.predict_proba_embedded(test_x, test_e)
    ensemble_dir = RESULTS / "models" / "banking77-ensemble"
    ensemble.save(ensemble_dir)
    results["ensemble"] = {
        **scores(test_y, [ensemble.labels[i] for i in ensemble_probabilities.argmax(axis=1)]),
        **latency(lambda text: ensemble.predict([text]), latency_texts),
        **worker_memory("ensemble", ensemble_dir, threads),
    }
    results["embedding"]["rss_mb"] = results["ensemble"]["rss_mb"]
    print("embedding:", results["embedding"], flush=True)
    print("ensemble:", results["ensemble"], flush=True)
    results["_embeddings"] = (embedder, train_e, test_e)
    return results


def bench_out_of_scope(embeddings: tuple[Any, Any, Any] | None) -> dict[str, Any]:
    """Hold out intents as unknown, train on the rest, pick the threshold on in-scope
    validation data, measure on the test set."""
    train_x, train_y = load_banking77("train")
    test_x, test_y = load_banking77("test")
    intents = sorted(set(train_y))
    unknown = sorted(random.Random(UNKNOWN_SEED).sample(intents, UNKNOWN_INTENTS))
    in_scope = [i for i, label in enumerate(train_y) if label not in unknown]
    fit_index, val_index = train_test_split(
        in_scope,
        test_size=VALIDATION_SHARE,
        stratify=[train_y[i] for i in in_scope],
        random_state=VALIDATION_SEED,
    )
    fit_x, fit_y = [train_x[i] for i in fit_index], [train_y[i] for i in fit_index]
    val_x, val_y = [train_x[i] for i in val_index], [train_y[i] for i in val_index]
    test_known = np.array([label not in unknown for label in test_y])
    ngram = NgramClassifier()
    ngram.fit(fit_x, fit_y)

    def evaluate(
        name: str,
        detector: OutOfScopeDetector,
        val_p: FloatArray,
        val_e: FloatArray | None,
        test_p: FloatArray,
        test_e: FloatArray | None,
        labels: Sequence[str],
    ) -> dict[str, Any]:
        val_correct = np.array([labels[i] for i in val_p.argmax(axis=1)]) == np.array(val_y)
        calibration = detector.calibrate(
            val_p, val_e, val_correct, min_answered_correct=MIN_ANSWERED_CORRECT
        )
        test_scores = detector.score(test_p, test_e)
        predicted = np.array([labels[i] for i in test_p.argmax(axis=1)])
        correct = predicted == np.array(test_y)
        known_scores, known_correct = test_scores[test_known], correct[test_known]
        unknown_scores = test_scores[~test_known]
        chosen = handover_curve(
            known_scores, known_correct, unknown_scores, [calibration.threshold]
        )[0]
        curve = handover_curve(known_scores, known_correct, unknown_scores, points=41)
        result = {
            "chosen": asdict(chosen),
            "validation_answered_correct": round(
                float(
                    np.mean((detector.score(val_p, val_e) <= calibration.threshold) & val_correct)
                ),
                4,
            ),
            "in_scope_accuracy": round(float(known_correct.mean()), 4),
            "curve": [asdict(point) for point in curve],
        }
        print(
            f"OOD {name}: handover on unknown {chosen.handover_unknown:.3f}, in-scope answered "
            f"correctly {chosen.answered_correct:.3f}",
            flush=True,
        )
        return result

    results: dict[str, Any] = {
        "unknown_intents": unknown,
        "seed": UNKNOWN_SEED,
        "fit_rows": len(fit_x),
        "validation_rows": len(val_x),
        "test_in_scope": int(test_known.sum()),
        "test_unknown": int((~test_known).sum()),
        "min_answered_correct_on_validation": MIN_ANSWERED_CORRECT,
    }
    val_p_ngram, test_p_ngram = ngram.predict_proba(val_x), ngram.predict_proba(test_x)
    results["ngram_max_probability"] = evaluate(
        "n-gram max-probability",
        OutOfScopeDetector(None),
        val_p_ngram,
        None,
        test_p_ngram,
        None,
        ngram.labels,
    )
    if embeddings is None:
        return results
    from helpline.adapters.ai.embedding import EmbeddingClassifier, EnsembleClassifier

    embedder, train_e, test_e = embeddings
    fit_e, val_e = train_e[np.array(fit_index)], train_e[np.array(val_index)]
    embedding = EmbeddingClassifier(embedder)
    embedding.fit_embedded(fit_e, fit_y)
    ensemble = EnsembleClassifier(ngram, embedding)
    val_p, test_p = (
        ensemble.predict_proba_embedded(val_x, val_e),
        ensemble.predict_proba_embedded(test_x, test_e),
    )
    results["ensemble_max_probability"] = evaluate(
        "ensemble max-probability",
        OutOfScopeDetector(None),
        val_p,
        None,
        test_p,
        None,
        ensemble.labels,
    )
    results["ensemble_plus_nearest_neighbour"] = evaluate(
        "ensemble max-probability + 1-NN embedding distance",
        OutOfScopeDetector(fit_e),
        val_p,
        val_e,
        test_p,
        test_e,
        ensemble.labels,
    )
    return results


def bench_language(low_accuracy: bool = False) -> dict[str, Any]:
    identifier = LanguageIdentifier(low_accuracy=low_accuracy)
    mode = "low-accuracy mode" if low_accuracy else "high-accuracy mode"
    results: dict[str, Any] = {"mode": mode}
    all_phrases = []
    for variant, transform in (("normal", str), ("stripped", strip_diacritics)):
        per_language = {}
        mistakes = []
        for language in SUPPORTED_LANGUAGES:
            phrases = (LANG_EVAL / f"{language}.txt").read_text(encoding="utf-8").splitlines()
            hits = 0
            for phrase in phrases:
                text = transform(phrase)
                all_phrases.append(text)
                guess = identifier.detect(text).language
                hits += guess == language
                if guess != language:
                    mistakes.append({"expected": language, "got": guess, "text": text})
            per_language[language] = round(hits / len(phrases), 4)
        total = sum(per_language.values()) / len(per_language)
        results[variant] = {"accuracy": round(total, 4), "per_language": per_language}
        results[variant]["mistakes"] = mistakes
        print(f"language, {mode} ({variant}): {total:.4f}", flush=True)
    results["latency"] = latency(identifier.detect, all_phrases[:LATENCY_MESSAGES])
    kind = "language-low" if low_accuracy else "language"
    results["memory"] = worker_memory(kind, LANG_EVAL, threads=1)
    return results


def bench_categories() -> dict[str, Any]:
    classifier = CategoryClassifier(cache_dir=RESULTS / "cache")
    started = time.perf_counter()
    classifier.model  # noqa: B018 (trains or loads the starter model)
    report = classifier.evaluate(load_bitext_rows("test"))
    result = {
        "accuracy": round(report.accuracy, 4),
        "macro_f1": round(report.macro_f1, 4),
        "train_or_load_seconds": round(time.perf_counter() - started, 1),
        "per_category": [asdict(score) for score in report.per_category],
    }
    print("categories (Bitext test):", {k: result[k] for k in ("accuracy", "macro_f1")})
    return result


def bench_assist() -> dict[str, Any]:
    """What AI assist costs per customer message in the server: category, language,
    frustration and register of one message (`services.ai_assist.analyse`)."""
    from helpline.services.ai_assist import analyse

    classifier = CategoryClassifier(cache_dir=RESULTS / "cache")
    texts = [row.text for row in load_bitext_rows("test")][:300]
    result = latency(lambda text: analyse([text], classifier=classifier), texts)
    print("ai assist per message:", result)
    return result


def print_assist(assist: dict[str, Any]) -> None:
    print(
        f"\n== AI assist per customer message (category, language, frustration, register) == "
        f"p50 {assist['p50_ms']} ms, p99 {assist['p99_ms']} ms, "
        f"CPU p50 {assist['cpu_p50_ms']} ms, CPU p99 {assist['cpu_p99_ms']} ms"
    )


def print_table(results: dict[str, Any]) -> None:
    intents = results["intents"]
    print("\n== Banking77 intents (train 10,003 / test 3,080) ==")
    print(
        f"{'backend':<12}{'accuracy':>10}{'macro-F1':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'cpu p99':>9}{'RSS MB':>9}"
    )
    for name in ("ngram", "embedding", "ensemble"):
        if name in intents:
            row = intents[name]
            print(
                f"{name:<12}{row['accuracy']:>10.4f}{row['macro_f1']:>10.4f}"
                f"{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}{row['cpu_p99_ms']:>9.2f}"
                f"{row.get('rss_mb', float('nan')):>9.1f}"
            )
    ood = results["out_of_scope"]
    print(
        f"\n== Out of scope: {len(ood['unknown_intents'])} held-out intents (seed {ood['seed']}) =="
    )
    print(", ".join(ood["unknown_intents"]))
    for key in (
        "ngram_max_probability",
        "ensemble_max_probability",
        "ensemble_plus_nearest_neighbour",
    ):
        if key not in ood:
            continue
        chosen = ood[key]["chosen"]
        validation = ood[key]["validation_answered_correct"]
        print(
            f"{key:<34} threshold {chosen['threshold']:+.3f}: handover on unknown "
            f"{chosen['handover_unknown']:.3f}, in-scope answered correctly "
            f"{chosen['answered_correct']:.3f} (validation {validation:.3f})"
        )
    best = ood.get("ensemble_plus_nearest_neighbour", ood["ngram_max_probability"])
    print("curve (threshold → handover on unknown / in-scope answered correctly):")
    for point in best["curve"][::4]:
        print(
            f"  {point['threshold']:+7.3f} → {point['handover_unknown']:.3f} / "
            f"{point['answered_correct']:.3f}"
        )
    print("\n== Language detection (8 languages x 100 phrases) ==")
    for key in ("language", "language_low_accuracy"):
        language = results[key]
        print(
            f"{language['mode']:<19} normal {language['normal']['accuracy']:.4f}  "
            f"stripped {language['stripped']['accuracy']:.4f}  "
            f"p99 {language['latency']['p99_ms']} ms  worker RSS {language['memory']['rss_mb']} MB "
            f"(detector {language['memory']['model_mb']} MB)"
        )
    if "assist" in results:
        print_assist(results["assist"])
    categories = results["categories"]
    print(
        f"\n== Starter categories (Bitext test) == accuracy {categories['accuracy']:.4f}, "
        f"macro-F1 {categories['macro_f1']:.4f}"
    )
    print(
        f"\nload average {results['load_average']} on {os.cpu_count()} cores; "
        f"details: {RESULTS / 'ai-latest.json'}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-embeddings", action="store_true", help="n-gram backend only")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads per worker (one per core is best)"
    )
    parser.add_argument(
        "--measure-memory", nargs=2, metavar=("KIND", "DIR"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--assist-only", action="store_true", help="only the per-message cost of AI assist"
    )
    args = parser.parse_args(argv)
    if args.assist_only:
        RESULTS.mkdir(parents=True, exist_ok=True)
        print_assist(bench_assist())
        return
    if args.measure_memory:
        measure_memory(args.measure_memory[0], Path(args.measure_memory[1]))
        return
    with_embeddings = not args.no_embeddings
    if with_embeddings:
        try:
            from helpline.adapters.ai.embedding import packaged_minilm_dir

            packaged_minilm_dir()
        except Exception as exc:  # report and go on without the extra
            print(f"embedding backend unavailable ({exc}); n-gram only", flush=True)
            with_embeddings = False
    RESULTS.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()
    intents = bench_intents(args.threads, with_embeddings)
    embeddings = intents.pop("_embeddings", None)
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "intents": intents,
        "out_of_scope": bench_out_of_scope(embeddings),
        "language": bench_language(),
        "language_low_accuracy": bench_language(low_accuracy=True),
        "categories": bench_categories(),
        "assist": bench_assist(),
    }
    results["load_average"] = [round(x, 1) for x in (*load_start, *os.getloadavg())]
    (RESULTS / "ai-latest.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print_table(results)


if __name__ == "__main__":
    main()
