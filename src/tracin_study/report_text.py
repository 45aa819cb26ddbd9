"""The report's words and tables for people, rendered from report/summary.json.

Every sentence with a number takes it from the summary dict (`summary` rule); nothing here
computes a statistic. Functions return Markdown strings or display-ready DataFrames.
"""

import math
import re

import pandas as pd

from tracin_study.paper import SHORT_SOURCES
from tracin_study.plan import AGGREGATE

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
SCORE_LABELS = {"claims": "raw TracInCP", "claims_adam": "Adam-preconditioned TracInCP"}


def require(mapping: dict, key: str, where: str = "the report's inputs"):
    """`mapping[key]`, or a KeyError that names the key and says which rule provides it."""
    if key not in mapping:
        raise KeyError(
            f"{key!r} is missing from {where} (present: {sorted(mapping)}); run the "
            "experiment whose rule file adds it to REPORT_INPUTS, then the summary rule"
        )
    return mapping[key]


def _fact(summary: dict, name: str) -> str:
    return next(f["value"] for f in summary["paper_facts"] if f["name"] == name)


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
        "raw TracInCP": summary["claims"],
        "Adam-preconditioned TracInCP": summary["claims_adam"],
        "the closest recipe": summary["recipe_sweep"]["closest_recipe_claims"],
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


def bottom_line(summary: dict) -> str:
    """Four plain sentences as Markdown bullets (a fifth on the counterfactual tests when
    summary.json has them): what of TracIn's claims reproduces and what does not, the
    per-house reading, the model's replication (a recipe matter), and what we
    found beyond the paper."""
    docs = tracin_claims(summary["claims"])
    per_house = summary["palo_alto_per_house"]
    quality = summary["model_quality"]
    closest = summary["recipe_sweep"]["selection"]
    correlations = {r["loss"]: r["mean"] for r in summary["self_influence_vs_loss"]}
    auc = corruption_auc(summary)
    better = "better than" if auc["summed_loss"] > auc["self_influence"] else "no better than"
    return "\n".join(
        "- " + sentence
        for sentence in [
            f"Of the {len(docs)} claims about TracIn we test (raw TracInCP, default recipe), "
            + outcomes_sentence(docs)
            + " An inconclusive verdict means the test could not decide: the interval neither "
            "excludes the null nor lies inside the margin of no effect.",
            f"Judged house by house, the proponents resemble their Palo Alto house in price for "
            f"{per_house['counts']['reproduced']} of the {len(per_house['houses'])} houses"
            + (
                "; the pooled verdict does not hold for every house (section 3.3 says which "
                "and why)."
                if per_house["counts"]["reproduced"] < len(per_house["houses"])
                else "."
            ),
            "Separately from TracIn, our model explains "
            f"{quality['train explained variance']['mean']:.2f} (train) and "
            f"{quality['test explained variance']['mean']:.2f} (test) of the price variance "
            f"against the paper's {_fact(summary, 'train_explained_variance')} and "
            f"{_fact(summary, 'test_explained_variance')}; the sweep's closest recipe reaches "
            f"{closest['train_explained_variance']:.2f} and "
            f"{closest['test_explained_variance']:.2f}: a difference of training recipe, "
            "which the paper leaves open, not a result about TracIn.",
            "Beyond the paper, self-influence and the summed training loss rank the training "
            f"houses with a Spearman correlation of {correlations['summed_loss']:.2f}, and that "
            "loss "
            f"finds corrupted targets {better} self-influence (AUC {auc['summed_loss']:.2f} "
            f"against {auc['self_influence']:.2f}).",
        ]
    ) + counterfactual_line(summary)


def counterfactual_line(summary: dict) -> str:
    """One bullet on the counterfactual tests (the removal verdicts of each recipe that has
    them, the LDS of the closest one) where summary.json has them, else the empty string."""
    parts = []
    for doc in summary.get("removal", {}).values():
        rows = [r for r in doc["verdicts"] if r["house"] == AGGREGATE]
        if not rows:  # a noise measurement only
            continue
        recipe = require(doc, "recipe", "the removal summary")
        parts.append(
            f"retraining the {recipe} recipe without the chosen houses, all Palo Alto "
            f"houses together, gives {_counts_phrase(rows)} of {len(rows)} removal comparisons "
            f"(smallest detectable effect {_detectable_range(rows)} of the full model's loss)"
        )
    lds = summary.get("lds", {}).get("lds_summary_closest")
    if lds:
        methods, ceiling = lds["methods"], lds["noise_ceiling"]["mean"]
        best = max(methods, key=lambda m: methods[m]["mean"])
        parts.append(
            f"the highest LDS ({_words(best)}, {methods[best]['mean']:.2f}) against a noise "
            f"ceiling of {ceiling:.2f}"
        )
    return ("\n- Counterfactually, " + "; ".join(parts) + ".") if parts else ""


def compact_table(summary: dict) -> pd.DataFrame:
    """One row per claim of the default recipe under raw TracInCP, plus the per-house claim:
    claim | the paper says | we measure (mean [95% interval] over seeds) | verdict."""
    rows = []
    for doc in tracin_claims(summary["claims"]):
        rows.append(_claim_row(doc, claim_name(doc["id"])))
    per_house = summary["palo_alto_per_house"]
    counts = per_house["counts"]
    rows.append(
        {
            "claim": "Palo Alto proponents per house",
            "the paper says": "the proponents of the Palo Alto houses are expensive houses "
            "(our per-house reading: they resemble each house in price)",
            "we measure": per_house["measurement"],
            "verdict": _join([f"{counts[o]} {o}" for o in OUTCOMES if counts.get(o)])
            + f" of {len(per_house['houses'])} houses",
        }
    )
    models = [d for d in summary["claims"] if d["id"] in MODEL_CLAIMS]
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
    return {
        "claim": name,
        "the paper says": f"{doc['claim']} ({SHORT_SOURCES[doc['source']]})",
        "we measure": f"{doc['measurement']}: {_interval(doc)} over {doc['n']} seeds",
        "verdict": doc["verdict"],
    }


def corruption_auc(summary: dict) -> dict[str, float]:
    """Mean AUC over seeds of the all-layer self-influence and of the summed loss."""
    scores = summary["corruption_detection"]["scores"]
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


def removal_noise_view(doc: dict) -> pd.DataFrame:
    """The noise of the random removals per protocol and k (`removal_verdicts.noise_table`
    rows in `doc["noise"]`), columns in words, effects in % of the full model's loss."""
    rows = []
    for r in require(doc, "noise", "the removal summary"):
        rows.append(
            {
                "protocol": r["protocol"].replace("_", " "),
                "houses removed": r["k"],
                "seeds": r["n_seeds"],
                "random draws per seed": r["draws_per_seed"],
                "sd of the summed-loss change (%)": f"{100 * r['summed_sd']:.1f}",
                "range over draws (%)": f"{100 * r['summed_min']:+.1f} to "
                f"{100 * r['summed_max']:+.1f}",
                "smallest detectable effect (%)": _percent(r["detectable_effect"]).rstrip("%"),
            }
        )
    return pd.DataFrame(rows)


SCORE_WORDS = {"raw": "raw TracInCP", "adam": "Adam-preconditioned TracInCP", "": "none"}
SET_WORDS = {
    "aggregate_proponents": "aggregate proponents",
    "aggregate_opponents": "aggregate opponents",
    "house_proponents": "the house's own proponents",
    "house_opponents": "the house's own opponents",
    "map_neighbours": "map neighbours",
}


def _removal_key(r: dict) -> dict:
    return {
        "protocol": _words(r["protocol"]),
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
                    "recipe": require(doc, "recipe", "the removal summary"),
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
            f"{_percent(r['shortfall'])} short with {r['n_seeds']} seed(s) and "
            f"{r['draws_per_seed']} draw(s) ({more})"
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
    """The mean LDS per score with its 95% bootstrap interval over subsets (`bootstrap_lds`
    `methods`), rounded."""
    rows = []
    for method, r in require(doc, "methods", "the LDS summary").items():
        low, high = r["ci95"]
        rows.append(
            {
                "score": method.replace("_", " "),
                "mean LDS over queries": f"{r['mean']:.3f}",
                "95% bootstrap interval over subsets": f"[{low:.3f}, {high:.3f}]",
                "sd over queries": f"{r['per_query_sd']:.3f}",
                "queries": r["n_queries"],
            }
        )
    return pd.DataFrame(rows)


def lds_takeaway(doc: dict) -> str:
    """The best score's LDS, which paired differences exclude 0, and the noise ceiling."""
    methods = require(doc, "methods", "the LDS summary")
    ceiling = require(doc, "noise_ceiling", "the LDS summary")["mean"]
    best = max(methods, key=lambda m: methods[m]["mean"])
    clear = [
        f"{pair} ({d['mean']:+.3f})"
        for pair, d in require(doc, "differences", "the LDS summary").items()
        if d["ci95"][0] > 0 or d["ci95"][1] < 0
    ]
    return (
        f"The highest mean LDS is {best.replace('_', ' ')}'s, {methods[best]['mean']:.3f}, "
        f"against a noise ceiling of {ceiling:.3f} (two retrainings of the same subsets agree "
        "this well, so no score can do much better). Paired differences whose 95% interval "
        f"excludes 0: {_join(clear)}."
    )


def quality_takeaway(summary: dict) -> str:
    """Our explained variances against the paper's, and what that gap is."""
    quality = summary["model_quality"]
    train, test = (quality[f"{s} explained variance"] for s in ("train", "test"))
    return (
        f"Our models explain {_interval(train)} of the price variance on the training split and "
        f"{_interval(test)} on the test split (mean [95% interval] over {train['n']} seeds), "
        f"against the paper's {_fact(summary, 'train_explained_variance')} and "
        f"{_fact(summary, 'test_explained_variance')}. This is the model's replication, set by "
        "the training recipe (section 4), not a result about TracIn."
    )


def stability_view(summary: dict) -> pd.DataFrame:
    """The agreement between seeds (`summary["stability"]`), one row per measure."""
    names = {
        "self_influence_spearman": "Spearman correlation of self-influence",
        "self_influence_top_overlap": "share of the top self-influence houses in common",
        "proponent_top_overlap": "share of the Palo Alto top-k proponents in common",
    }
    rows = []
    for key, label in names.items():
        doc = summary["stability"][key]
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
    st = summary["stability"]
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
    table = pd.DataFrame(summary["approximation_chain"])
    table["checkpoints"] = table["checkpoints"].map(lambda k: "-" if pd.isna(k) else int(k))
    table["cell"] = [f"{m:.2f} ± {s:.2f}" for m, s in zip(table["mean"], table["sd"], strict=True)]
    view = table.pivot_table(
        index=["optimizer", "method", "checkpoints"],
        columns="metric",
        values="cell",
        aggfunc="first",
        sort=False,
    )
    view.columns = [f"{c.replace('_', ' ')} with TracInIdeal" for c in view.columns]
    return view.reset_index().rename(columns={"optimizer": "optimiser"})


def chain_takeaway(summary: dict) -> str:
    """How well the sparsest and the densest TracInCP rank houses as TracInIdeal does."""
    rows = [
        r
        for r in summary["approximation_chain"]
        if r["metric"] == "spearman" and r["optimizer"] == "sgd" and not pd.isna(r["checkpoints"])
    ]
    first = next(
        r["mean"]
        for r in summary["approximation_chain"]
        if r["metric"] == "spearman" and r["optimizer"] == "sgd" and r["method"] == "first_order"
    )
    few, many = min(rows, key=lambda r: r["checkpoints"]), max(rows, key=lambda r: r["checkpoints"])
    return (
        f"With plain SGD, first-order TracIn ranks the training houses as TracInIdeal does "
        f"(Spearman {first:.2f}); TracInCP keeps {few['mean']:.2f} with {int(few['checkpoints'])} "
        f"checkpoint(s) and {many['mean']:.2f} with {int(many['checkpoints'])}."
    )


def ablation_view(summary: dict) -> pd.DataFrame:
    """The checkpoint ablation: one row per (variant, scope), mean ± sd over seeds per
    metric, all against the paper's set-up (all layers, its checkpoints)."""
    table = pd.DataFrame(summary["checkpoint_ablation"])
    table["cell"] = [f"{m:.2f} ± {s:.2f}" for m, s in zip(table["mean"], table["sd"], strict=True)]
    view = table.pivot_table(
        index=["variant_b", "scope"], columns="metric", values="cell", aggfunc="first", sort=False
    )
    view.columns = [c.replace("_", " ") for c in view.columns]
    view = view.reset_index()
    view["variant_b"] = view["variant_b"].str.replace("_", " ")
    view["scope"] = view["scope"].str.replace("_", " ")
    return view.rename(columns={"variant_b": "compared with the paper's set-up", "scope": "of"})


def ablation_takeaway(summary: dict) -> str:
    """The lowest Spearman agreement of any variant with the paper's set-up."""
    rows = [r for r in summary["checkpoint_ablation"] if r["metric"] == "spearman"]
    low = min(rows, key=lambda r: r["mean"])
    high = max(rows, key=lambda r: r["mean"])
    return (
        f"Changing the checkpoints or the layers moves the rankings between a Spearman of "
        f"{low['mean']:.2f} ({_words(low['variant_b'])}, {_words(low['scope'])}) and "
        f"{high['mean']:.2f} ({_words(high['variant_b'])}, {_words(high['scope'])}) with the "
        "paper's set-up."
    )


def corruption_view(summary: dict) -> pd.DataFrame:
    """Detection of corrupted targets per score: AUC and recalls, mean ± sd over seeds."""
    rows = []
    for score, metrics in summary["corruption_detection"]["scores"].items():
        row = {"score": score.replace("_", " ")}
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
        for r in summary["self_influence_vs_loss"]
    ]
    return pd.DataFrame(rows)


def price_view(summary: dict) -> pd.DataFrame:
    """Price statistics of the aggregate proponents and of each baseline set, means over
    seeds: mean price in $100,000, share at the cap in %, mean price percentile."""
    rows = [
        {
            "houses": _words(r["houses"]),
            "mean price ($100,000)": f"{r['mean_price']:.2f}",
            "at the price cap (%)": f"{100 * r['capped_share']:.0f}",
            "mean price percentile": f"{r['mean_percentile']:.0f}",
        }
        for r in summary["proponent_prices"]
    ]
    return pd.DataFrame(rows)


def recall_by_change_view(summary: dict) -> pd.DataFrame:
    """Recall of corrupted targets split by the size of the change, means over seeds."""
    rows = []
    for r in summary["corruption_detection"]["recall_by_change"]:
        row = {
            "score": _words(r["score"]),
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
