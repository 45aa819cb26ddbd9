"""The report's words and tables for people, rendered from report/summary.json.

Every sentence with a number takes it from the summary dict (`summary` rule); nothing here
computes a statistic. Functions return Markdown strings or display-ready DataFrames.
"""

import math
import re

import pandas as pd

from tracin_study import sections
from tracin_study.names import (
    CHAIN_WORDS,
    FACT_WORDS,
    HOUSE_WORDS,
    LDS_WORDS,
    METRIC_WORDS,
    OPTIMISER_WORDS,
    PROTOCOL_WORDS,
    RECIPE_WORDS,
    SCOPE_WORDS,
    SCORE_NAMES,
    SCORE_WORDS,
    SET_WORDS,
    VARIANT_WORDS,
)
from tracin_study.paper import CA_SECTION, REMOVAL_READING, SELF_INFLUENCE_READING, SHORT_SOURCES
from tracin_study.run_plans import AGGREGATE

ARXIV = "https://arxiv.org/abs/2002.08484"
PAPER = (
    "Pruthi, Liu, Kale and Sundararajan, *Estimating Training Data Influence by Tracing "
    f"Gradient Descent*, NeurIPS 2020 ([arXiv:2002.08484]({ARXIV}))"
)

MODEL_CLAIMS = ("train_explained_variance", "test_explained_variance")
RARE = "high_self_influence_rare"
CLAIM_NAMES = {  # claim id -> its name in words, for the report's tables
    "palo_alto_proponents_expensive": "The Palo Alto proponents are expensive",
    "high_self_influence_rare": "High self-influence houses are rare",
    "high_self_influence_unusual_labels": "High self-influence houses have unusual prices",
    "low_self_influence_typical": "Low self-influence houses are typical",
    "train_explained_variance": "Explained variance, training split",
    "test_explained_variance": "Explained variance, test split",
}


def require(mapping: dict, key: str, where: str = "the report's inputs"):
    """`mapping[key]`, or a KeyError that names the key and says which rule provides it."""
    if key not in mapping:
        raise KeyError(
            f"{key!r} is missing from {where} (present: {sorted(mapping)}); run the "
            "experiment whose rule file declares its report section, then the summary rule"
        )
    return mapping[key]


def _fact(summary: dict, name: str) -> str:
    return next(f["value"] for f in summary[sections.PAPER_FACTS] if f["name"] == name)


def _interval(doc: dict, digits: int = 2) -> str:
    """ "mean [low, high]", or "mean (one seed, no interval)" where the interval is undefined."""
    low, high = doc["ci95"]
    if low is None or math.isnan(low):
        return f"{doc['mean']:.{digits}f} (no interval: one value)"
    return f"{doc['mean']:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _words(name: str) -> str:
    return name.replace("_", " ")


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items) or "none"
    return ", ".join(items[:-1]) + " and " + items[-1]


VERBS = {
    "reproduced": ("reproduces", "reproduce"),
    "no effect": ("shows no effect", "show no effect"),
    "inconclusive": ("is inconclusive", "are inconclusive"),
    "contradicted": ("is contradicted", "are contradicted"),
}
OUTCOMES = tuple(VERBS)  # the order outcomes are listed in


def outcomes_sentence(docs: list[dict]) -> str:
    """ "1 reproduces (a), 2 show no effect (b and c) and 1 is inconclusive (d)." for claim
    docs (`id`, `verdict`), claims by `claim_name`; outcomes in `OUTCOMES` order, empty ones
    left out."""
    parts = []
    for outcome in OUTCOMES:
        names = [_lower(claim_name(d["id"])) for d in docs if d["verdict"] == outcome]
        if names:
            verb = VERBS[outcome][len(names) != 1]
            parts.append(f"{len(names)} {verb} ({_join(names)})")
    return _join(parts) + "."


def _lower(name: str) -> str:
    return name[:1].lower() + name[1:]


def _counts_phrase(rows: list[dict]) -> str:
    """ "1 reproduced, 2 no effect and 3 inconclusive" for verdict rows, in `OUTCOMES` order."""
    counts = pd.Series([r["verdict"] for r in rows], dtype=object).value_counts()
    return _join([f"{counts[o]} {o}" for o in OUTCOMES if o in counts])


def _percent(value) -> str:
    return "-" if value is None or math.isnan(value) else f"{100 * value:.1f}%"


def _detectable_range(rows: list[dict]) -> str:
    """The smallest detectable effects of verdict rows as "a%" or "a% to b%" (fractions of
    the full model's summed loss), "not defined" with one seed."""
    effects = sorted(
        r["detectable_effect"]
        for r in rows
        if r["detectable_effect"] is not None and not math.isnan(r["detectable_effect"])
    )
    if not effects:
        return "not defined (one seed)"
    low, high = _percent(effects[0]), _percent(effects[-1])
    return low if low == high else f"{low} to {high}"


def tracin_claims(docs: list[dict]) -> list[dict]:
    """The claims about TracIn: every claim but the model's explained variances."""
    return [d for d in docs if d["id"] not in MODEL_CLAIMS]


def rare_verdicts(summary: dict) -> dict[str, str]:
    """The verdict of the "rare" claim under each score and recipe (label -> verdict)."""
    evaluations = {
        "raw TracInCP": summary[sections.CLAIMS],
        "Adam-preconditioned TracInCP": summary[sections.CLAIMS_ADAM],
        "the closest recipe": summary[sections.RECIPE_SWEEP]["closest_recipe_claims"],
    }
    return {
        label: d["verdict"] for label, docs in evaluations.items() for d in docs if d["id"] == RARE
    }


def fragility(summary: dict) -> str:
    """A sentence on whether the "rare" claim keeps its verdict across scores and recipes."""
    verdicts = rare_verdicts(summary)
    parts = _join([f"{v} under {label}" for label, v in verdicts.items()])
    if len(set(verdicts.values())) > 1:
        return f"The claim that high self-influence houses are rare is fragile: it is {parts}."
    return f"The claim that high self-influence houses are rare keeps its verdict: {parts}."


WHOSE = {  # a claim's source -> whose claim it is, in the report's tables
    CA_SECTION: "the paper's",
    SELF_INFLUENCE_READING: "our reading of the paper",
    REMOVAL_READING: "our own test",
}
NOT_STATED = {  # what the paper states where a claim is not the paper's
    SELF_INFLUENCE_READING: "Not stated for California housing. Its general account: high "
    "self-influence marks rare or mislabelled examples (sections on self-influence and on "
    "mislabelled data)",
    REMOVAL_READING: "Not stated: the paper retrains no model without houses. It defines a "
    "proponent as a training example whose steps lowered the test loss",
}


def claim_groups(docs: list[dict]) -> dict[str, list[dict]]:
    """Claim docs grouped by whose claim they are (`WHOSE`), in `WHOSE` order."""
    groups = {
        whose: [d for d in docs if WHOSE.get(d["source"]) == whose] for whose in WHOSE.values()
    }
    return {whose: group for whose, group in groups.items() if group}


def claims_sentence(summary: dict) -> str:
    """The verdicts of the TracIn claims (default recipe, raw TracInCP), the paper's own
    apart from our readings and our own tests."""
    labels = {
        "the paper's": (
            "claim stated by the paper's California-housing section",
            "claims stated by the paper's California-housing section",
        ),
        "our reading of the paper": (
            "claim that is our reading of the paper",
            "claims that are our readings of the paper",
        ),
        "our own test": ("test of our own (the paper has none)", "tests of our own"),
    }
    parts = []
    for whose, group in claim_groups(tracin_claims(summary[sections.CLAIMS])).items():
        label = labels[whose][len(group) != 1]
        parts.append(f"of {len(group)} {label}, " + outcomes_sentence(group).rstrip("."))
    return "On the default recipe, scored by raw TracInCP: " + "; ".join(parts) + "."


def bottom_line(summary: dict) -> str:
    """Plain sentences as Markdown bullets: the TracIn claims (the paper's apart from our
    readings), every counterfactual comparison counted, the LDS within its interval, the
    per-house reading, the model's replication (a recipe matter) and what we found beyond
    the paper."""
    per_house = summary[sections.PALO_ALTO_PER_HOUSE]
    quality = summary[sections.MODEL_QUALITY]
    closest = summary[sections.RECIPE_SWEEP]["selection"]
    correlations = {r["loss"]: r["mean"] for r in summary[sections.SELF_INFLUENCE_VS_LOSS]}
    auc = corruption_auc(summary)
    better = "better than" if auc["summed_loss"] > auc["self_influence"] else "no better than"
    closest_test = next(
        d
        for d in summary[sections.RECIPE_SWEEP]["closest_recipe_claims"]
        if d["id"] == "test_explained_variance"
    )
    closest_train = next(
        d
        for d in summary[sections.RECIPE_SWEEP]["closest_recipe_claims"]
        if d["id"] == "train_explained_variance"
    )
    sentences = [
        claims_sentence(summary),
        f"Judged house by house, the proponents resemble their Palo Alto house in price for "
        f"{per_house['counts']['reproduced']} of the {len(per_house['houses'])} houses "
        "(our per-house reading of the paper's statement).",
        *([comparisons_sentence(summary)] if summary.get(sections.REMOVAL) else []),
        *(
            [lds_sentence(summary[sections.LDS]["lds_summary_closest"])]
            if _has_lds(summary)
            else []
        ),
        "The model, not TracIn: ours explains "
        f"{quality['train explained variance']['mean']:.2f} (train) and "
        f"{quality['test explained variance']['mean']:.2f} (test) of the price variance "
        f"against the paper's {_fact(summary, 'train_explained_variance')} and "
        f"{_fact(summary, 'test_explained_variance')}; the closest recipe "
        f"({recipe_name(closest['recipe'])}, {closest['epoch']} epochs) reaches "
        f"{closest_train['mean']:.2f} and {closest_test['mean']:.2f} over "
        f"{closest_test['n']} seeds: a difference of training recipe, which the paper leaves "
        "open.",
        "Beyond the paper, self-influence and the summed training loss rank the training "
        f"houses with a Spearman correlation of {correlations['summed_loss']:.2f}, and that "
        f"loss finds corrupted targets {better} self-influence (AUC {auc['summed_loss']:.2f} "
        f"against {auc['self_influence']:.2f}).",
    ]
    return "\n".join("- " + sentence for sentence in sentences)


def _has_lds(summary: dict) -> bool:
    return "lds_summary_closest" in summary.get(sections.LDS, {})


def recipe_name(recipe: str) -> str:
    """A recipe's name for people ("minmax" -> "min-max scaled features")."""
    return RECIPE_WORDS.get(recipe, _words(recipe))


CLAIM_LISTS = (  # summary.json's claim lists: key path, recipe and score
    ((sections.CLAIMS,), "default", "raw"),
    ((sections.CLAIMS_ADAM,), "default", "adam"),
    ((sections.RECIPE_SWEEP, "closest_recipe_claims"), "closest", "raw"),
)
REMOVAL_CLAIM = re.compile(r"removing_(\w+?)_vs_(\w+)_k(\d+)")


def comparisons(summary: dict) -> list[dict]:
    """Every counterfactual comparison on all Palo Alto houses together in summary.json, one
    row each (recipe, score, set, compared with, k, protocol, direction, verdict): the
    removal summaries' `AGGREGATE` rows (each set against as many random houses), then the
    removal claims that compare with another set (e.g. map neighbours), which the removal
    rows do not hold. A row whose `score` is empty is a baseline: no TracIn score chose it."""
    rows, seen = [], set()
    for doc in summary.get(sections.REMOVAL, {}).values():
        for r in require(doc, "verdicts", "the removal summary"):
            if r["house"] != AGGREGATE:
                continue
            row = {
                "recipe": require(doc, "recipe", "the removal summary"),
                "score": r["score"] or "",
                "set": r["set"],
                "against": "random",
                "k": int(r["k"]),
                "protocol": r["protocol"],
                "direction": r.get("direction", 1),
                "verdict": r["verdict"],
            }
            rows.append(row)
            seen.add((row["recipe"], row["score"], row["set"], row["k"]))
    for keys, recipe, score in CLAIM_LISTS:
        docs = summary
        for key in keys:
            docs = docs.get(key, {}) if isinstance(docs, dict) else {}
        for d in docs or []:
            match = REMOVAL_CLAIM.fullmatch(d["id"])
            if not match:
                continue
            chosen, against, k = match.group(1), match.group(2), int(match.group(3))
            set_name = f"aggregate_{chosen}"
            if against == "random" and (recipe, score, set_name, k) in seen:
                continue
            rows.append(
                {
                    "recipe": recipe,
                    "score": score,
                    "set": set_name,
                    "against": against,
                    "k": k,
                    "protocol": "fixed_order",
                    "direction": 1,
                    "verdict": d["verdict"],
                }
            )
    return rows


def _comparison_label(row: dict) -> dict:
    against = (
        "as many random houses"
        if row["against"] == "random"
        else ("as many " + SET_WORDS.get(row["against"], _words(row["against"])))
    )
    claimed = "raise" if row["direction"] >= 0 else "lower"
    return {
        "recipe": recipe_name(row["recipe"]),
        "chosen by": SCORE_WORDS[row["score"]] if row["score"] else "no score: a baseline",
        "houses removed": SET_WORDS.get(row["set"], _words(row["set"])),
        "compared with": against,
        "claimed effect": f"removal should {claimed} the Palo Alto loss more",
        "retraining": PROTOCOL_WORDS.get(row["protocol"], _words(row["protocol"])),
    }


def plain(text: str) -> str:
    """`text` with the protocols' code names in words ("(fixed_order)" -> "(same batch
    order)")."""
    for name, words in PROTOCOL_WORDS.items():
        text = text.replace(name, words)
    return text


def comparison_counts(summary: dict) -> pd.DataFrame:
    """The counterfactual comparisons (`comparisons`) counted per recipe, score, set,
    baseline and protocol: the k values, one column per outcome and the total."""
    groups: dict[tuple, list[dict]] = {}
    for row in comparisons(summary):
        groups.setdefault(tuple(_comparison_label(row).values()), []).append(row)
    table = []
    for labels, rows in groups.items():
        counts = {o: sum(r["verdict"] == o for r in rows) for o in COUNT_ORDER}
        table.append(
            {
                **dict(zip(_comparison_label(rows[0]), labels, strict=True)),
                "houses removed (k)": ", ".join(str(k) for k in sorted({r["k"] for r in rows})),
                **counts,
                "comparisons": len(rows),
            }
        )
    return pd.DataFrame(table)


COUNT_ORDER = ("reproduced", "contradicted", "no effect", "inconclusive")


def comparisons_sentence(summary: dict) -> str:
    """The counterfactual comparisons counted: TracIn's apart from the baselines."""
    rows = comparisons(summary)
    tracin = [r for r in rows if r["score"]]
    baselines = [r for r in rows if not r["score"]]
    text = (
        f"Counterfactually (our own test: retraining without houses), the {len(rows)} "
        f"comparisons on all Palo Alto houses together give, for houses chosen by TracIn, "
        f"{_counts_of(tracin)} of {len(tracin)}"
    )
    if baselines:
        sets = _join(sorted({SET_WORDS.get(r["set"], _words(r["set"])) for r in baselines}))
        text += (
            f"; for the baselines no TracIn score chose ({sets}), "
            f"{_counts_of(baselines)} of {len(baselines)}"
        )
    removal_rows = [
        r
        for doc in summary.get(sections.REMOVAL, {}).values()
        for r in doc["verdicts"]
        if r["house"] == AGGREGATE
    ]
    return (
        text + f"; the smallest effect these seeds and draws could detect is "
        f"{_detectable_range(removal_rows)} of the full model's Palo Alto loss."
    )


def _counts_of(rows: list[dict]) -> str:
    counts = {o: sum(r["verdict"] == o for r in rows) for o in COUNT_ORDER}
    return _join([f"{n} {o}" for o, n in counts.items()])


def lds_name(method: str) -> str:
    """An LDS method's name for people."""
    return LDS_WORDS.get(method, _words(method))


def lds_sentence(doc: dict) -> str:
    """The best score's LDS with its interval, the noise ceiling, and what the interval
    allows (whether it contains 0 and the ceiling), in words that stay within it."""
    methods = require(doc, "methods", "the LDS summary")
    ceiling = require(doc, "noise_ceiling", "the LDS summary")
    best = max(methods, key=lambda m: methods[m]["mean"])
    low, high = methods[best]["ci95"]
    mean = ceiling["mean"]
    if ceiling.get("ci95"):
        c_low, c_high = ceiling["ci95"]
        ceiling_text = f"{mean:.2f} [{c_low:.2f}, {c_high:.2f}]"
    else:
        ceiling_text = f"{mean:.2f} (one estimate, no interval)"
    contains = [
        name
        for name, inside in (("0", low <= 0 <= high), ("the noise ceiling", low <= mean <= high))
        if inside
    ]
    if len(contains) == 2:
        reading = (
            "its interval contains both 0 and the ceiling, so these retrainings cannot tell "
            "whether it predicts retraining at all or as well as retraining repeats itself"
        )
    elif contains == ["0"]:
        reading = "its interval contains 0 but not the ceiling: no predictive power is shown"
    elif contains:
        reading = "its interval excludes 0 and contains the ceiling"
    else:
        reading = "its interval excludes both 0 and the ceiling"
    return (
        f"The linear datamodeling score (LDS) on the closest recipe, {doc['n_queries']} query "
        f"houses and {doc['n_subsets']} retrainings: the highest mean is that of "
        f"{lds_name(best)}, {methods[best]['mean']:.2f} [{low:.2f}, {high:.2f}], against a "
        "noise ceiling of "
        f"{ceiling_text}; {reading}."
    )


def identical_methods(doc: dict) -> list[tuple[str, str]]:
    """Pairs of LDS methods whose mean and interval agree to every digit."""
    methods = require(doc, "methods", "the LDS summary")
    names = list(methods)
    return [
        (a, b)
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        if methods[a]["mean"] == methods[b]["mean"] and methods[a]["ci95"] == methods[b]["ci95"]
    ]


def compact_table(summary: dict) -> pd.DataFrame:
    """One row per claim of the default recipe under raw TracInCP, plus the per-house claim:
    claim | what the paper states (its words or a close paraphrase, with the page) | whose
    claim (the paper's, our reading, our own test) | we measure | verdict."""
    rows = [
        _claim_row(doc, claim_name(doc["id"])) for doc in tracin_claims(summary[sections.CLAIMS])
    ]
    per_house = summary[sections.PALO_ALTO_PER_HOUSE]
    counts = per_house["counts"]
    rows.append(
        {
            "claim": "Palo Alto proponents, house by house",
            "what the paper states": f"{_fact(summary, 'palo_alto')} (p. 8)",
            "whose claim": "our reading of the paper (per house)",
            "we measure": per_house["measurement"],
            "verdict": _join([f"{counts[o]} {o}" for o in OUTCOMES if counts.get(o)])
            + f" of {len(per_house['houses'])} houses",
        }
    )
    models = [d for d in summary[sections.CLAIMS] if d["id"] in MODEL_CLAIMS]
    rows += [
        _claim_row(d, "The model (not TracIn): " + _lower(claim_name(d["id"]))) for d in models
    ]
    return pd.DataFrame(rows)


def claim_name(claim_id: str) -> str:
    """A claim's id in words for the report's tables ("removing_proponents_vs_random_k50" ->
    "Removing the 50 aggregate proponents hurts more than removing 50 random houses")."""
    removal = re.fullmatch(r"removing_proponents_vs_(random|map_neighbours)_k(\d+)", claim_id)
    if removal:
        other, k = removal.groups()
        baseline = "random houses" if other == "random" else "map neighbours"
        return f"Removing the {k} aggregate proponents hurts more than removing {k} {baseline}"
    return CLAIM_NAMES.get(claim_id, _words(claim_id).capitalize())


def _claim_row(doc: dict, name: str) -> dict:
    source = doc["source"]
    stated = (
        f"{_capital(doc['claim'])} ({SHORT_SOURCES[source].removeprefix('paper, ')})"
        if source == CA_SECTION
        else NOT_STATED.get(source, SHORT_SOURCES.get(source, source))
    )
    return {
        "claim": name,
        "what the paper states": stated,
        "whose claim": WHOSE.get(source, SHORT_SOURCES.get(source, source)),
        "we measure": f"{plain(doc['measurement'])}: {_interval(doc)} over {doc['n']} seeds",
        "verdict": doc["verdict"],
    }


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def corruption_auc(summary: dict) -> dict[str, float]:
    """Mean AUC over seeds of the all-layer self-influence and of the summed loss."""
    scores = summary[sections.CORRUPTION_DETECTION]["scores"]
    return {
        "self_influence": scores["self_influence_all_layers"]["auc"]["mean"],
        "summed_loss": scores["summed_loss"]["auc"]["mean"],
    }


def self_influence_map_caption(number: int, geography: dict, top_n: int) -> str:
    """Caption of the self-influence map: what the paper's figure shows (as far as its text
    says), our reading marked as ours, and the Bay Area shares from `summary.geography`."""
    share = {key: f"{100 * geography[key]['bay_area_share']:.0f}%" for key in geography}
    return (
        f"Figure {number}. The {top_n} training houses of highest and of lowest self-influence "
        "of one seed, on the map. The paper shows the same two maps for its model; what it "
        "says about them beyond that is not known to us. Our reading of our maps (ours, not "
        f"the paper's): {share['high']} of the highest lie in the Bay Area, against "
        f"{share['all']} of all training houses and {share['low']} of the lowest."
    )


def facts_view(summary: dict) -> pd.DataFrame:
    """What the paper states and leaves open (`paper_facts`), names in words."""
    return pd.DataFrame(
        [
            {
                "fact": FACT_WORDS.get(f["name"], _words(f["name"])),
                "what the paper states (p. 8)": f["value"],
                "our note": f["note"] or "-",
            }
            for f in summary[sections.PAPER_FACTS]
        ]
    )


def recipes_view(summary: dict) -> pd.DataFrame:
    """The sweep's recipes (`recipe_sweep.recipes`), names in words, three decimals."""
    table = pd.DataFrame(summary[sections.RECIPE_SWEEP]["recipes"])
    table["recipe"] = table["recipe"].map(recipe_name)
    return table.rename(columns=lambda c: c.replace("EV", "explained variance"))


def _removal_key(r: dict) -> dict:
    return {
        "retraining": PROTOCOL_WORDS.get(r["protocol"], _words(r["protocol"])),
        "score that chose the houses": SCORE_WORDS.get(r["score"] or "", r["score"]),
        "houses removed": SET_WORDS.get(r["set"], _words(r["set"])),
        "k (houses)": r["k"],
    }


def removal_aggregate_view(docs: list[dict]) -> pd.DataFrame:
    """One row per removal verdict on all Palo Alto houses together (`AGGREGATE` rows of
    each removal summary in `docs`): recipe, protocol, score, set, k, the effect against
    random removals as mean [95% interval] and the smallest detectable effect, both in % of
    the full model's summed Palo Alto loss, and the verdict."""
    rows = []
    for doc in docs:
        for r in require(doc, "verdicts", "the removal summary"):
            if r["house"] != AGGREGATE:
                continue
            interval = "one seed: no interval"
            if r["ci95_low"] is not None and not math.isnan(r["ci95_low"]):
                low, high = 100 * r["ci95_low"], 100 * r["ci95_high"]
                interval = f"{100 * r['mean']:+.1f} [{low:+.1f}, {high:+.1f}]"
            rows.append(
                {
                    "recipe": recipe_name(require(doc, "recipe", "the removal summary")),
                    **_removal_key(r),
                    "effect vs random, mean [95% interval] (%)": interval,
                    "smallest detectable effect (%)": _percent(r["detectable_effect"]).rstrip("%"),
                    "verdict": r["verdict"],
                }
            )
    return pd.DataFrame(rows)


def removal_house_counts(docs: list[dict], list_up_to: int = 3) -> pd.DataFrame:
    """The per-house removal verdicts (every row but `AGGREGATE`) counted per recipe,
    protocol, score, set and k: "2 reproduced, 6 no effect and 3 inconclusive of 11", and the
    houses of each outcome that has at most `list_up_to` of them."""
    rows = []
    for doc in docs:
        houses = [
            r for r in require(doc, "verdicts", "the removal summary") if r["house"] != AGGREGATE
        ]
        groups: dict[tuple, list[dict]] = {}
        for r in houses:
            groups.setdefault((r["protocol"], r["score"] or "", r["set"], r["k"]), []).append(r)
        for group in groups.values():
            named = [
                f"{o}: {', '.join(str(r['house']) for r in group if r['verdict'] == o)}"
                for o in OUTCOMES
                if 0 < sum(r["verdict"] == o for r in group) <= list_up_to
            ]
            rows.append(
                {
                    "recipe": require(doc, "recipe", "the removal summary"),
                    **_removal_key(group[0]),
                    "verdicts of the test houses": f"{_counts_phrase(group)} of {len(group)}",
                    "houses by outcome (outcomes with few houses)": "; ".join(named) or "-",
                }
            )
    return pd.DataFrame(rows)


def removal_takeaway(doc: dict) -> str:
    """A sentence on the verdicts of the `AGGREGATE` rows (all houses together) of `doc`."""
    rows = [r for r in require(doc, "verdicts", "the removal summary") if r["house"] == AGGREGATE]
    recipe = require(doc, "recipe", "the removal summary")
    return (
        f"Over all Palo Alto houses together, the {len(rows)} removal comparisons of the "
        f"{recipe} recipe give {_counts_phrase(rows)}; the smallest effect these seeds "
        f"and draws could detect is {_detectable_range(rows)} of the full model's summed loss, "
        "so a verdict of no effect or inconclusive rules out only effects larger than that."
    )


def removal_power_view(doc: dict) -> pd.DataFrame:
    """The power of the removal test per protocol and k (`removal_verdicts.noise_table`
    rows): seeds, draws, the noise sd, the smallest detectable effect of the aggregate
    verdicts against the design goal (`power_target`), how far it falls short and the
    seeds that would reach it at these draws; in % of the full model's summed loss."""
    target = require(doc, "power_target", "the removal summary")
    rows = []
    for r in require(doc, "noise", "the removal summary"):
        needed = r["seeds_needed"]
        rows.append(
            {
                "protocol": _words(r["protocol"]),
                "k (houses)": r["k"],
                "seeds": r["n_seeds"],
                "random draws per seed": r["draws_per_seed"],
                "noise sd (%)": f"{100 * r['summed_sd']:.1f}",
                "smallest detectable effect (%)": _percent(r["detectable_effect"]).rstrip("%"),
                f"short of {100 * target:.0f}% by (%)": _percent(r["shortfall"]).rstrip("%"),
                f"seeds for {100 * target:.0f}% at these draws": "none"
                if needed is None
                else needed,
            }
        )
    return pd.DataFrame(rows)


def removal_power_takeaway(doc: dict) -> str:
    """Which k of `doc` reach the design goal (`power_target`) and which fall short, by
    how much and with the seeds that would reach it."""
    target = require(doc, "power_target", "the removal summary")
    recipe = require(doc, "recipe", "the removal summary")
    rows = [
        r for r in require(doc, "noise", "the removal summary") if r["protocol"] == doc["protocol"]
    ]
    short = [r for r in rows if r["shortfall"] is None or r["shortfall"] > 0]
    reached = [str(r["k"]) for r in rows if r not in short]
    parts = []
    if reached:
        parts.append(
            f"at k = {_join(reached)} the smallest detectable effect of the aggregate verdicts is "
            f"within the goal of {_percent(target)} of the summed loss"
        )
    for r in short:
        needed = r["seeds_needed"]
        more = "no number of seeds reaches it" if needed is None else f"{needed} seeds would"
        if r["detectable_effect"] is None:  # one seed: no interval across seeds
            parts.append(
                f"at k = {r['k']} the noise sd is {_percent(r['summed_sd'])} of the summed loss "
                f"({r['draws_per_seed']} random draws of one seed), so a smallest detectable "
                f"effect of {_percent(target)} needs {needed or 'more than 1000'} seeds with "
                "as many draws"
            )
            continue
        parts.append(
            f"at k = {r['k']} it is {_percent(r['detectable_effect'])}, "
            f"{_percent(r['shortfall'])} short with {_count(r['n_seeds'], 'seed')} and "
            f"{_count(r['draws_per_seed'], 'draw')} ({more})"
        )
    return f"On the {recipe} recipe, " + "; ".join(parts) + "."


def random_shift_view(doc: dict) -> pd.DataFrame:
    """The change of the summed loss that removing k random houses gives, per protocol and
    k (`removal_verdicts.random_shift` rows): mean over seeds [95% interval] and the sd
    across seeds, in % of the full model's summed loss."""
    rows = []
    for r in require(doc, "random_shift", "the removal summary"):
        interval = "one seed: no interval"
        if r["ci95_low"] is not None and not math.isnan(r["ci95_low"]):
            interval = (
                f"{100 * r['mean']:+.1f} [{100 * r['ci95_low']:+.1f}, {100 * r['ci95_high']:+.1f}]"
            )
        rows.append(
            {
                "protocol": _words(r["protocol"]),
                "k (houses)": r["k"],
                "seeds": r["n_seeds"],
                "random shift, mean [95% interval] (%)": interval,
                "sd across seeds (%)": _percent(r["sd"]).rstrip("%"),
            }
        )
    return pd.DataFrame(rows)


def lds_power_takeaway(doc: dict) -> str:
    """What the LDS can tell: the interval of the noise ceiling, the smallest detectable
    paired difference of the two TracIn scores, and the subsets (and models per subset)
    an interval of +-`target_half_width` would need, with its CPU cost."""
    ceiling = require(doc, "noise_ceiling", "the LDS summary")
    plan = require(doc, "power", "the LDS summary")
    pair = require(doc, "differences", "the LDS summary").get("raw - adam")
    low, high = ceiling["ci95"]
    one = plan["models_per_subset"][0]
    best = plan["models_per_subset"][-1]
    text = (
        f"Two retrainings of the same {ceiling['subsets']} subsets agree to a mean Spearman of "
        f"{ceiling['mean']:.2f} [{low:.2f}, {high:.2f}] (the noise ceiling, 95% bootstrap "
        f"interval over subsets). The widest interval of a mean LDS is ±{plan['half_width']:.2f}"
    )
    if pair:
        text += (
            f"; a paired difference between the raw and the Adam-preconditioned score smaller "
            f"than ±{pair['detectable_difference']:.2f} cannot be told from 0"
        )
    text += (
        f". An interval of ±{plan['target_half_width']:.2f} would need about "
        f"{plan['subsets_needed']} subsets, {one['cpu_hours']:.1f} CPU hours with one model "
        f"per subset (at {plan['seconds_per_retraining']:.0f} s per retraining as measured "
        "here; config/cluster.yaml runs it)."
    )
    if one["ceiling"] is None:
        return text + " The two retrainings do not agree at all, so more models per subset "
        "have no agreement to build on."
    return text + (
        f" Averaging {best['models']} models per subset would raise the ceiling a perfect "
        f"score could reach from {one['ceiling']:.2f} to {best['ceiling']:.2f}, at "
        f"{best['cpu_hours']:.0f} CPU hours."
    )


def lds_view(doc: dict) -> pd.DataFrame:
    """The mean LDS per score with its 95% bootstrap interval over subsets (`lds.lds_intervals`
    `methods`), rounded."""
    rows = []
    for method, r in require(doc, "methods", "the LDS summary").items():
        low, high = r["ci95"]
        rows.append(
            {
                "score": lds_name(method),
                "mean LDS over queries": f"{r['mean']:.3f}",
                "95% bootstrap interval over subsets": f"[{low:.3f}, {high:.3f}]",
                "sd over queries": f"{r['per_query_sd']:.3f}",
                "queries": r["n_queries"],
            }
        )
    return pd.DataFrame(rows)


def lds_takeaway(doc: dict) -> str:
    """The best score's LDS within its interval (`lds_sentence`), the paired differences
    that exclude 0, and scores that coincide."""
    ceiling = require(doc, "noise_ceiling", "the LDS summary")["mean"]
    clear = [
        f"{' minus '.join(lds_name(m) for m in pair.split(' - '))} ({d['mean']:+.3f})"
        for pair, d in require(doc, "differences", "the LDS summary").items()
        if d["ci95"][0] > 0 or d["ci95"][1] < 0
    ]
    return (
        lds_sentence(doc)
        + f" Two retrainings of the same subsets agree to {ceiling:.3f}, so no score can be "
        f"expected to do much better. Paired differences whose 95% interval excludes 0: "
        f"{_join(clear)}."
        + "".join(
            f" {lds_name(a)} and {lds_name(b)} agree to every digit: on this recipe every "
            "saved checkpoint is one TracInCP uses, so the two scores are the same sum."
            for a, b in identical_methods(doc)
            if b.endswith("_all_checkpoints") or a.endswith("_all_checkpoints")
        )
    )


def quality_takeaway(summary: dict) -> str:
    """Our explained variances against the paper's, and what that gap is."""
    quality = summary[sections.MODEL_QUALITY]
    train, test = (quality[f"{s} explained variance"] for s in ("train", "test"))
    return (
        f"Our models explain {_interval(train)} of the price variance on the training split and "
        f"{_interval(test)} on the test split (mean [95% interval] over {train['n']} seeds), "
        f"against the paper's {_fact(summary, 'train_explained_variance')} and "
        f"{_fact(summary, 'test_explained_variance')}. This is the model's replication, set by "
        "the training recipe (section 4), not a result about TracIn."
    )


def stability_view(summary: dict) -> pd.DataFrame:
    """The agreement between seeds (`summary[sections.STABILITY]`), one row per measure."""
    names = {
        "self_influence_spearman": "Spearman correlation of self-influence",
        "self_influence_top_overlap": "share of the top self-influence houses in common",
        "proponent_top_overlap": "share of the Palo Alto top-k proponents in common",
    }
    rows = []
    for key, label in names.items():
        doc = summary[sections.STABILITY][key]
        rows.append(
            {
                "agreement between two seeds": label,
                "mean [95% jackknife interval]": _interval(doc),
                "seeds": doc["n_seeds"],
            }
        )
    return pd.DataFrame(rows)


def stability_takeaway(summary: dict) -> str:
    """How far two seeds agree on self-influence and on the Palo Alto proponents."""
    st = summary[sections.STABILITY]
    return (
        "Two seeds rank the training houses by self-influence with a mean Spearman "
        f"correlation of {st['self_influence_spearman']['mean']:.2f} and share "
        f"{100 * st['self_influence_top_overlap']['mean']:.0f}% of their top self-influence "
        f"houses, but only {100 * st['proponent_top_overlap']['mean']:.0f}% of the Palo Alto "
        "proponents: a single model's proponents are a property of that model as much as of "
        "the data."
        if st["proponent_top_overlap"]["mean"] < st["self_influence_top_overlap"]["mean"]
        else "Two seeds rank the training houses by self-influence with a mean Spearman "
        f"correlation of {st['self_influence_spearman']['mean']:.2f}, share "
        f"{100 * st['self_influence_top_overlap']['mean']:.0f}% of their top self-influence "
        f"houses and {100 * st['proponent_top_overlap']['mean']:.0f}% of the Palo Alto "
        "proponents."
    )


def chain_view(summary: dict) -> pd.DataFrame:
    """The approximation chain against TracInIdeal: one row per (optimiser, method,
    checkpoints), the mean ± sd over test houses of each agreement metric."""
    table = pd.DataFrame(summary[sections.APPROXIMATION_CHAIN])
    table["checkpoints"] = table["checkpoints"].map(lambda k: "-" if pd.isna(k) else int(k))
    table["optimizer"] = table["optimizer"].map(lambda o: OPTIMISER_WORDS.get(o, o))
    table["method"] = table["method"].map(lambda m: CHAIN_WORDS.get(m, _words(m)))
    table["cell"] = [f"{m:.2f} ± {s:.2f}" for m, s in zip(table["mean"], table["sd"], strict=True)]
    view = table.pivot_table(
        index=["optimizer", "method", "checkpoints"],
        columns="metric",
        values="cell",
        aggfunc="first",
        sort=False,
    )
    view.columns = [f"{METRIC_WORDS.get(c, _words(c))} with TracInIdeal" for c in view.columns]
    return view.reset_index().rename(columns={"optimizer": "optimiser"})


def chain_takeaway(summary: dict) -> str:
    """How well the sparsest and the densest TracInCP rank houses as TracInIdeal does."""
    rows = [
        r
        for r in summary[sections.APPROXIMATION_CHAIN]
        if r["metric"] == "spearman" and r["optimizer"] == "sgd" and not pd.isna(r["checkpoints"])
    ]
    first = next(
        r["mean"]
        for r in summary[sections.APPROXIMATION_CHAIN]
        if r["metric"] == "spearman" and r["optimizer"] == "sgd" and r["method"] == "first_order"
    )
    few, many = min(rows, key=lambda r: r["checkpoints"]), max(rows, key=lambda r: r["checkpoints"])
    return (
        f"With plain SGD, first-order TracIn ranks the training houses as TracInIdeal does "
        f"(Spearman {first:.2f}); TracInCP keeps {few['mean']:.2f} with "
        f"{_count(int(few['checkpoints']), 'checkpoint')} and {many['mean']:.2f} with "
        f"{int(many['checkpoints'])}." + _adam_chain_sentence(summary)
    )


def _count(n: int, noun: str) -> str:
    """ "1 checkpoint", "5 checkpoints"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _adam_chain_sentence(summary: dict) -> str:
    """With Adam: the top-k overlap of the raw and of the Adam-aware first-order term with
    TracInIdeal, where summary.json has both."""
    overlap = {
        r["method"]: r["mean"]
        for r in summary[sections.APPROXIMATION_CHAIN]
        if r["optimizer"] == "adam" and r["metric"] == "top_k_overlap"
    }
    if not {"first_order_raw", "first_order_adam"} <= set(overlap):
        return ""
    return (
        f" With Adam, the raw first-order term shares {overlap['first_order_raw']:.2f} of the "
        f"top proponents with TracInIdeal, the Adam-aware term {overlap['first_order_adam']:.2f}:"
        " the paper's formula without the optimiser's scaling misses part of what training did."
    )


def ablation_view(summary: dict) -> pd.DataFrame:
    """The checkpoint ablation: one row per (variant, scope), mean ± sd over seeds per
    metric, all against the paper's set-up (all layers, its checkpoints)."""
    table = pd.DataFrame(summary[sections.CHECKPOINT_ABLATION])
    table["cell"] = [f"{m:.2f} ± {s:.2f}" for m, s in zip(table["mean"], table["sd"], strict=True)]
    view = table.pivot_table(
        index=["variant_b", "scope"], columns="metric", values="cell", aggfunc="first", sort=False
    )
    view.columns = [METRIC_WORDS.get(c, _words(c)) for c in view.columns]
    view = view.reset_index()
    view["variant_b"] = view["variant_b"].map(lambda v: VARIANT_WORDS.get(v, _words(v)))
    view["scope"] = view["scope"].map(lambda v: SCOPE_WORDS.get(v, _words(v)))
    return view.rename(columns={"variant_b": "compared with the paper's set-up", "scope": "of"})


def ablation_takeaway(summary: dict) -> str:
    """The lowest Spearman agreement of any variant with the paper's set-up."""
    rows = [r for r in summary[sections.CHECKPOINT_ABLATION] if r["metric"] == "spearman"]
    low = min(rows, key=lambda r: r["mean"])
    high = max(rows, key=lambda r: r["mean"])
    return (
        f"Changing the checkpoints or the layers moves the rankings between a Spearman of "
        f"{low['mean']:.2f} ({VARIANT_WORDS.get(low['variant_b'], _words(low['variant_b']))}, "
        f"{SCOPE_WORDS.get(low['scope'], _words(low['scope']))}) and {high['mean']:.2f} "
        f"({VARIANT_WORDS.get(high['variant_b'], _words(high['variant_b']))}, "
        f"{SCOPE_WORDS.get(high['scope'], _words(high['scope']))}) with the paper's set-up"
        + _lowest_overlap(summary)
        + "."
    )


def _lowest_overlap(summary: dict) -> str:
    rows = [r for r in summary[sections.CHECKPOINT_ABLATION] if r["metric"] == "top_k_overlap"]
    if not rows:
        return ""
    low = min(rows, key=lambda r: r["mean"])
    return (
        f"; the top-k overlap falls to {low['mean']:.2f} "
        f"({VARIANT_WORDS.get(low['variant_b'], _words(low['variant_b']))}, "
        f"{SCOPE_WORDS.get(low['scope'], _words(low['scope']))})"
    )


def corruption_view(summary: dict) -> pd.DataFrame:
    """Detection of corrupted targets per score: AUC and recalls, mean ± sd over seeds."""
    rows = []
    for score, metrics in summary[sections.CORRUPTION_DETECTION]["scores"].items():
        row = {"score": SCORE_NAMES.get(score, _words(score))}
        for metric, doc in metrics.items():
            label = (
                "AUC"
                if metric == "auc"
                else metric.replace("recall_at_", "found after inspecting ")
            )
            label += "" if metric == "auc" else " of the data"
            sd = "" if doc["sd"] is None else f" ± {doc['sd']:.2f}"
            row[label] = f"{doc['mean']:.2f}{sd}"
        rows.append(row)
    return pd.DataFrame(rows)


def corruption_takeaway(summary: dict) -> str:
    """Which of self-influence and the summed loss finds corrupted targets better."""
    auc = corruption_auc(summary)
    better = "better" if auc["summed_loss"] > auc["self_influence"] else "no better"
    return (
        f"The summed training loss finds corrupted targets {better} than self-influence does "
        f"(AUC {auc['summed_loss']:.2f} against {auc['self_influence']:.2f}; 0.5 is a random "
        "order): for this task the gradient-norm factor of self-influence does not help."
        if better == "better"
        else f"Self-influence finds corrupted targets at least as well as the summed training "
        f"loss (AUC {auc['self_influence']:.2f} against {auc['summed_loss']:.2f})."
    )


def correlation_view(summary: dict) -> pd.DataFrame:
    """Spearman correlation of self-influence with each loss ranking, over seeds."""
    rows = [
        {
            "self-influence against": _words(r["loss"]),
            "Spearman, mean [95% interval] over seeds": _interval(
                {"mean": r["mean"], "ci95": [r["ci95_low"], r["ci95_high"]]}
            ),
            "seeds": int(r["n"]),
        }
        for r in summary[sections.SELF_INFLUENCE_VS_LOSS]
    ]
    return pd.DataFrame(rows)


def price_view(summary: dict) -> pd.DataFrame:
    """Price statistics of the aggregate proponents and of each baseline set, means over
    seeds: mean price in $100,000, share at the cap in %, mean price percentile."""
    rows = [
        {
            "houses": HOUSE_WORDS.get(r["houses"], _words(r["houses"])),
            "mean price ($100,000)": f"{r['mean_price']:.2f}",
            "at the price cap (%)": f"{100 * r['capped_share']:.0f}",
            "mean price percentile": f"{r['mean_percentile']:.0f}",
        }
        for r in summary[sections.PROPONENT_PRICES]
    ]
    return pd.DataFrame(rows)


def recall_by_change_view(summary: dict) -> pd.DataFrame:
    """Recall of corrupted targets split by the size of the change, means over seeds."""
    rows = []
    for r in summary[sections.CORRUPTION_DETECTION]["recall_by_change"]:
        row = {
            "score": SCORE_NAMES.get(r["score"], _words(r["score"])),
            "size of the change": r["change"],
            "corrupted houses (mean per seed)": f"{r['n_corrupted']:.0f}",
        }
        for key, value in r.items():
            if key.startswith("recall_at_"):
                share = float(key.removeprefix("recall_at_"))
                row[f"found after inspecting {share:.0%} of the data"] = f"{value:.2f}"
        rows.append(row)
    return pd.DataFrame(rows)


def baselines_view(docs: list[dict]) -> pd.DataFrame:
    """Every claim (docs of the claims rule) with its margin, then one row per baseline
    measured the same way: mean [95% interval] over seeds and the verdict the claim's rule
    gives it."""
    rows = []
    for doc in docs:
        rows.append(
            {
                "claim": doc["claim"],
                "measured on": "the claim's own houses",
                "mean [95% interval]": _interval(doc),
                "margin of the verdict": doc["margin"],
                "verdict": doc["verdict"],
            }
        )
        for label, baseline in doc["baselines"].items():
            rows.append(
                {
                    "claim": "",
                    "measured on": label,
                    "mean [95% interval]": _interval(baseline),
                    "margin of the verdict": "",
                    "verdict": baseline["verdict"],
                }
            )
    return pd.DataFrame(rows)


def duration(seconds: float) -> str:
    """A run time in words: "27 min 7 s", "1 h 3 min", "42 s"."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def provenance_line(summary: dict) -> str:
    """Where the report's numbers come from: commit, date, machine, config hash, seeds and
    run time of the run (`summary[sections.PROVENANCE]`)."""
    run = summary[sections.PROVENANCE]
    seeds = run["seeds"]
    return (
        f"**Provenance.** This report comes from the run of commit `{run['git_commit'][:7]}` "
        f"on {run['date_utc'][:10]} at {run['date_utc'][11:16]} UTC, on {run['machine']}; "
        f"config hash `{run['config_hash']}`, data from the {run['data_source']}, "
        f"{len(seeds)} model seeds ({_join([str(s) for s in seeds])}); "
        f"{duration(run['elapsed_since_data_stage_s'])} from the data stage to the summary."
    )


def fit_sentence(summary: dict) -> str:
    """Whether our default recipe, or only the closest recipe, reaches the explained
    variances the paper reports (the verdicts of the model's claims)."""

    def reached(docs: list[dict]) -> bool:
        verdicts = [d["verdict"] for d in docs if d["id"] in MODEL_CLAIMS]
        return bool(verdicts) and all(v == "reproduced" for v in verdicts)

    if reached(summary[sections.CLAIMS]):
        return "our default recipe reaches the explained variances the paper reports."
    if reached(summary[sections.RECIPE_SWEEP]["closest_recipe_claims"]):
        return (
            "the explained variances the paper reports are reached by the closest recipe, "
            "not by our default one."
        )
    return (
        "neither our default nor the closest recipe reaches the explained variances the "
        "paper reports."
    )


def reproducibility_summary(summary: dict) -> str:
    """The ML Reproducibility Challenge's summary (scope, methodology with the compute used,
    results, what was easy, what was difficult, communication with the authors) in
    Markdown, its numbers from summary.json."""
    run = summary[sections.PROVENANCE]
    groups = claim_groups(tracin_claims(summary[sections.CLAIMS]))
    paper_claims = groups.get("the paper's", [])
    retrained = max(
        (len(d["seeds"]) for d in summary.get(sections.REMOVAL, {}).values() if d["verdicts"]),
        default=len(run["seeds"]),
    )
    seeds = f"{len(run['seeds'])} model seeds" + (
        f" ({retrained} on the recipe of the retraining tests)"
        if retrained != len(run["seeds"])
        else ""
    )
    return "\n\n".join(
        [
            "## Reproducibility summary",
            f"**Paper.** {PAPER}.",
            "**Scope of reproducibility.** The paper's California-housing experiment (p. 8): "
            "an MLP trained on the house prices, the maps of the training houses of highest "
            "and lowest self-influence, and the statement that the proponents of 11 Palo Alto "
            "houses are expensive houses; we test it, our readings of the paper's general "
            "account of self-influence, and, with our own retraining tests, whether TracIn's "
            "proponents matter to the model.",
            "**Methodology.** Our own code: exact TracInCP over all parameters, checked "
            "against brute-force autograd; the paper's set-up where it states it (8:2 split, "
            "3 hidden layers of about 168K parameters, Adam, squared error, 200 epochs, "
            "every 20th epoch a checkpoint) and our choices where it does not; "
            f"{seeds}, a verdict rule fixed in code beforehand. "
            f"Compute: {run['machine']} (CPU only), "
            f"{duration(run['elapsed_since_data_stage_s'])} for the whole study.",
            "**Results.** "
            + (
                "The paper's California-housing "
                + ("claim" if len(paper_claims) == 1 else "claims")
                + " about TracIn, "
                + _join([f"{_lower(claim_name(d['id']))}: {d['verdict']}" for d in paper_claims])
                + "; "
                if paper_claims
                else ""
            )
            + (
                "our readings of its general account of self-influence: "
                + outcomes_sentence(groups["our reading of the paper"]).rstrip(".")
                + "; "
                if "our reading of the paper" in groups
                else ""
            )
            + fit_sentence(summary)
            + " "
            + (comparisons_sentence(summary) + " " if summary.get(sections.REMOVAL) else "")
            + "Every result, with its verdict, is in the bottom line below.",
            "**What was easy.** The paper's formula: TracInCP is a sum of gradient dot "
            "products, and for an MLP those factorise exactly per layer; the data are public.",
            "**What was difficult.** What the paper leaves open: layer widths, batch size, "
            "preprocessing, learning rate and split, and the exact Palo Alto houses; its "
            "statements about the maps are not quantified, so every measurement and margin "
            "here is ours. Retraining tests are noisy: many retrainings are needed to detect "
            "small effects.",
            "**Communication with the original authors.** None.",
        ]
    )


def readme_findings(summary: dict) -> str:
    """The README's Findings section (its heading included): the run's provenance and the
    bottom line, all from summary.json; `tests/test_report_text.py` checks that README.md
    holds exactly this text for the committed report/summary.json."""
    run = summary[sections.PROVENANCE]
    return (
        "## Findings (from the committed run)\n\n"
        f"Generated from `report/summary.json` by `report_text.readme_findings`: the run of "
        f"commit {run['git_commit'][:7]} ({run['date_utc'][:10]}, {run['machine']}, "
        f"{duration(run['elapsed_since_data_stage_s'])}), seeds "
        f"{_join([str(s) for s in run['seeds']])}, 95% t-intervals over seeds, verdict rules "
        "fixed in code beforehand.\n\n" + bottom_line(summary) + "\n"
    )


def removal_effects(summary: dict) -> pd.DataFrame:
    """The headline figure's removal effects: of the removal summary with the most k
    values, its main protocol's rows on all Palo Alto houses together with an interval, one
    row per (set in words, k): label, k, mean, low and high in % of the full model's loss."""
    docs = list(summary.get(sections.REMOVAL, {}).values())
    if not docs:
        return pd.DataFrame(columns=["label", "k", "mean", "low", "high"])
    doc = max(docs, key=lambda d: len({r["k"] for r in d["verdicts"]}))
    rows = []
    for r in doc["verdicts"]:
        if r["house"] != AGGREGATE or r["protocol"] != doc["protocol"]:
            continue
        if r["ci95_low"] is None or math.isnan(r["ci95_low"]):
            continue
        chosen = SET_WORDS.get(r["set"], _words(r["set"]))
        by = f", chosen by {SCORE_WORDS[r['score']]}" if r["score"] else " (baseline)"
        rows.append(
            {
                "label": _capital(chosen) + by,
                "k": int(r["k"]),
                "mean": 100 * r["mean"],
                "low": 100 * r["ci95_low"],
                "high": 100 * r["ci95_high"],
            }
        )
    return pd.DataFrame(rows, columns=["label", "k", "mean", "low", "high"])


def training_takeaway(summary: dict) -> str:
    """How much better the default recipe fits the training split than the test split."""
    quality = summary[sections.MODEL_QUALITY]
    train, test = (quality[f"{s} explained variance"]["mean"] for s in ("train", "test"))
    return (
        f"Our default recipe fits the training split (explained variance {train:.2f}) better "
        f"than the test split ({test:.2f}), against the paper's "
        f"{_fact(summary, 'train_explained_variance')} and "
        f"{_fact(summary, 'test_explained_variance')}; section 4 finds a recipe that fits "
        "like the paper's model."
    )


def palo_alto_takeaway(summary: dict) -> str:
    """The Palo Alto claim's ratio and verdict, and the mean prices of the proponents, the
    opponents and the map neighbours."""
    claim = next(d for d in summary[sections.CLAIMS] if d["id"] == "palo_alto_proponents_expensive")
    price = {r["houses"]: r["mean_price"] for r in summary[sections.PROPONENT_PRICES]}
    return (
        f"As the paper states, the proponents are expensive houses ({claim['verdict']}): their "
        f"mean price is {_interval(claim)} times that of the map neighbours (mean [95% "
        f"interval] over {claim['n']} seeds). Mean prices in $100,000: proponents "
        f"{price['proponents']:.2f}, opponents {price['opponents']:.2f}, map neighbours "
        f"{price['map_neighbours']:.2f}."
    )


def conclusion(summary: dict) -> str:
    """The report's conclusion: what of the paper reproduces, how our readings and our
    own tests fare, and what the model's fit and the baselines say, from summary.json."""
    groups = claim_groups(tracin_claims(summary[sections.CLAIMS]))
    parts = []
    if "the paper's" in groups:
        parts.append(
            "What the paper's California-housing section states about TracIn: "
            + outcomes_sentence(groups["the paper's"])
        )
    if "our reading of the paper" in groups:
        parts.append(
            "Our readings of its general account of self-influence: "
            + outcomes_sentence(groups["our reading of the paper"])
        )
    if summary.get(sections.REMOVAL):
        parts.append(comparisons_sentence(summary))
    if _has_lds(summary):
        parts.append(lds_sentence(summary[sections.LDS]["lds_summary_closest"]))
    auc = corruption_auc(summary)
    better = "better" if auc["summed_loss"] > auc["self_influence"] else "no better"
    parts.append(
        "The explained variances the paper reports are a matter of training recipe, not of "
        f"TracIn, and for finding corrupted prices the summed training loss does {better} "
        f"than self-influence (AUC {auc['summed_loss']:.2f} against "
        f"{auc['self_influence']:.2f})."
    )
    return "\n\n".join(parts)


def side_by_side(docs: dict[str, list[dict]]) -> pd.DataFrame:
    """The verdicts of several evaluations of the claims, one row per claim (in the order of
    the first evaluation, then claims only later ones have): for each label of `docs` (label
    -> the claims' dicts, as in summary.json), the mean [95% CI] over seeds and the verdict; "not
    evaluated" where an evaluation lacks the claim."""
    texts, cells = {}, {}
    for label, evaluation in docs.items():
        for doc in evaluation:
            texts.setdefault(doc["id"], doc["claim"])
            low, high = doc["ci95"]
            cells[doc["id"], f"{label}: mean [95% CI]"] = (
                f"{doc['mean']:.3f} [{low:.3f}, {high:.3f}]"
            )
            cells[doc["id"], f"{label}: verdict"] = doc["verdict"]
    columns = [f"{label}: {part}" for label in docs for part in ("mean [95% CI]", "verdict")]
    rows = [
        {"claim": text, **{c: cells.get((claim_id, c), "not evaluated") for c in columns}}
        for claim_id, text in texts.items()
    ]
    return pd.DataFrame(rows)


PER_HOUSE_LABELS = {  # a per-house value (`claims.PER_HOUSE_COLUMNS`) -> its name in words
    "test_index": "test house",
    "price": "price ($100,000)",
    "prediction": "model's prediction ($100,000)",
    "proponents_mean_price": "proponents' mean price ($100,000)",
    "proponents_capped_share": "proponents at the price cap (%)",
    "opponents_mean_price": "opponents' mean price ($100,000)",
    "opponents_capped_share": "opponents at the price cap (%)",
    "map_neighbours_mean_price": "map neighbours' mean price ($100,000)",
    "closeness_gain": "proponents closer in price than map neighbours by ($100,000)",
    "odd": "below half the group's median price and income",
}


def per_house_view(doc: dict) -> pd.DataFrame:
    """The per-house verdicts (summary.json's `palo_alto_per_house`) as a table for people:
    one row per test house, columns named in words with units (`PER_HOUSE_LABELS`), prices
    to 2 decimals, shares in whole percent, the closeness gain as mean [95% interval] over
    seeds, and the verdict."""
    rows = []
    for house in doc["houses"]:
        gain = house["closeness_gain"]
        low, high = gain["ci95"]
        row = {PER_HOUSE_LABELS["test_index"]: house["test_index"]}
        for key in PER_HOUSE_LABELS:
            if key.endswith("_share"):
                row[PER_HOUSE_LABELS[key]] = round(100 * house[key])
            elif key.endswith("price") or key == "prediction":
                row[PER_HOUSE_LABELS[key]] = round(house[key], 2)
        row[PER_HOUSE_LABELS["closeness_gain"]] = f"{gain['mean']:+.2f} [{low:+.2f}, {high:+.2f}]"
        row[PER_HOUSE_LABELS["odd"]] = "yes" if house["odd"] else "no"
        row["verdict over seeds"] = house["verdict"]
        rows.append(row)
    return pd.DataFrame(rows)


def describe_per_house(doc: dict) -> str:
    """A plain Markdown paragraph on the per-house verdicts: how many houses reproduce the
    claim, for each that does not its verdict and why, and the rule (dollar signs escaped,
    so that no pair of them reads as a formula)."""
    n, counts = len(doc["houses"]), doc["counts"]
    text = (
        f"Judged house by house, the claim that {doc['claim']} is reproduced for "
        f"{counts['reproduced']} of the {n} Palo Alto test houses"
    )
    others = [h for h in doc["houses"] if h["verdict"] != "reproduced"]
    parts = [
        f"house {h['test_index']}{' (flagged low price and income)' if h['odd'] else ''}: "
        f"{h['verdict']}, {h['reason']}"
        for h in others
    ]
    text += ". The others: " + "; ".join(parts) + "." if parts else "."
    text += f" (Measured per seed: {doc['measurement']}; {doc['margin']}.)"
    return text.replace("$", r"\$")


def describe_selection(selection: dict, latitude: float, longitude: float) -> str:
    """A plain sentence on what the "n nearest test houses" rule selected around (`latitude`,
    `longitude`), from summary.json's `palo_alto_selection`."""
    text = (
        f"The rule takes the {selection['n_houses']} test-split houses (census block groups) "
        f"nearest to ({latitude:.4f} N, {-longitude:.4f} W), whatever town they lie in: all "
        f"within {selection['max_distance_km']:.1f} km; {selection['n_capped']} are at the "
        "price cap."
    )
    if selection["n_odd"]:
        odd, others = selection["odd"], selection["others"]
        text += (
            f" {selection['n_odd']} of them (around {odd['latitude']:.2f} N, "
            f"{-odd['longitude']:.2f} W) have a median income of "
            f"{odd['median_income']:.1f} and a price of {odd['price']:.2f} against "
            f"{others['median_income']:.1f} and {others['price']:.2f} "
            "for the rest: very likely East Palo Alto, a different town."
        )
    return text


def quality_view(summary: dict) -> pd.DataFrame:
    """Explained variance and MSE of both splits per seed (index `seed`, one column per
    measure of summary.json's `model_quality`)."""
    columns = {
        name: {int(s): v for s, v in doc["per_seed"].items()}
        for name, doc in summary[sections.MODEL_QUALITY].items()
    }
    return pd.DataFrame(columns).rename_axis("seed")


STABILITY_TITLES = {  # a matrix of summary.json's `stability_matrices` -> its panel title
    "self_influence_spearman": "Self-influence, all houses",
    "self_influence_top_overlap": "Self-influence, top houses",
    "proponent_top_overlap": "Palo Alto proponents",
}


def stability_panels(summary: dict, top_n: int, k: int) -> dict[str, tuple[pd.DataFrame, str]]:
    """The seed x seed matrices of summary.json's `stability_matrices` as `plots.heatmaps`
    panels: title -> (matrix indexed by seed, colour bar label); `top_n` and `k` are the
    report's top set and the proponents per house."""
    labels = {
        "self_influence_spearman": "Spearman correlation",
        "self_influence_top_overlap": f"share of the top {top_n} in common",
        "proponent_top_overlap": f"share of the top {k} in common",
    }
    panels = {}
    for name, doc in summary[sections.STABILITY_MATRICES].items():
        matrix = pd.DataFrame(doc["values"], index=doc["seeds"], columns=doc["seeds"])
        panels[STABILITY_TITLES[name]] = (matrix, labels[name])
    return panels
