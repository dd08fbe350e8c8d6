"""Validation by document: the validation-set reader, leave-one-document-out, the review table.

The sentences are written for these tests in the register of news and work reports on east–west
cooperation (闽宁, 沪滇, 粤桂 …); none is copied from a source.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from helpers import annotations as ann
from helpers import codebook as cb
from helpers import reliability as rel
from helpers import validation as val
from helpers.annotations import AnnotationError


@pytest.fixture(scope="module")
def book():
    return cb.codebook_read()


def _write(path, header: list[str], rows: list[list]) -> None:
    lines = [",".join(header)] + [",".join(str(x) for x in r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


UNITS_HEADER = ["unit_id", "doc_id", "genre", "script", "split", "text"]
UNITS_ROWS = [
    ["n1-s1", "n1", "news", "simplified", "tune", "闽宁两省区召开联席会议"],
    ["n1-s2", "n1", "news", "simplified", "tune", "双方签订劳务协作协议"],
    ["c1-s1", "c1", "commentary", "traditional", "holdout", "閩寧協作已走過二十多年"],
    ["c1-s2", "c1", "commentary", "traditional", "holdout", "山海情深，攜手奔小康"],
]


def _coder_rows(book, values: dict[str, dict[str, int]]) -> tuple[list[str], list[list]]:
    header = ["unit_id", "doc_id", "coder", *book.ids, "note"]
    rows = [
        [u, u.split("-")[0], "A", *[values.get(u, {}).get(c, 0) for c in book.ids], ""]
        for u, *_ in UNITS_ROWS
    ]
    return header, rows


def test_validation_set_is_read_with_its_coders(tmp_path, book):
    _write(tmp_path / "units.csv", UNITS_HEADER, UNITS_ROWS)
    header, rows = _coder_rows(book, {"n1-s1": {"joint_meetings": 1}})
    _write(tmp_path / "coder_A.csv", header, rows)
    header_b = [h for h in header if h != "coder"]  # no coder column: the name comes from the file
    _write(
        tmp_path / "coder_B.csv",
        header_b,
        [[x for h, x in zip(header, r) if h != "coder"] for r in rows],
    )
    vs = val.validation_read(tmp_path, book)
    assert vs.coders == ["A", "B"]
    assert len(vs.codings) == 2 * 4 * len(book.ids)
    assert vs.documents.to_dict() == {"n1-s1": "n1", "n1-s2": "n1", "c1-s1": "c1", "c1-s2": "c1"}
    a = vs.codings[(vs.codings["coder"] == "A") & (vs.codings["value"] == 1)]
    assert list(zip(a["unit_id"], a["code"])) == [("n1-s1", "joint_meetings")]


@pytest.mark.parametrize(
    "edit, line, column, reason",
    [
        (lambda rows: rows[1].__setitem__(4, "holdout"), 3, "split", "the split is by document"),
        (lambda rows: rows[0].__setitem__(4, "train"), 2, "split", "not one of tune, dev, holdout"),
        (lambda rows: rows[2].__setitem__(0, "n1-s1"), 4, "unit_id", "repeated"),
        (lambda rows: rows[3].__setitem__(5, ""), 5, "text", "empty"),
    ],
)
def test_validation_units_errors_name_line_and_column(tmp_path, edit, line, column, reason):
    rows = [list(r) for r in UNITS_ROWS]
    edit(rows)
    _write(tmp_path / "units.csv", UNITS_HEADER, rows)
    with pytest.raises(AnnotationError, match=reason) as exc:
        val.validation_units_read(tmp_path / "units.csv")
    assert (exc.value.line, exc.value.field) == (line, column)


def test_validation_coding_errors_name_line_and_column(tmp_path, book):
    header, rows = _coder_rows(book, {})
    rows[2][header.index("pairing")] = 2
    _write(tmp_path / "coder_A.csv", header, rows)
    with pytest.raises(AnnotationError, match="'2' is not 0 or 1") as exc:
        val.validation_coding_read(tmp_path / "coder_A.csv", book, [r[0] for r in UNITS_ROWS])
    assert (exc.value.line, exc.value.field) == (4, "pairing")
    header, rows = _coder_rows(book, {})
    rows[0][0] = "x-s9"
    _write(tmp_path / "coder_A.csv", header, rows)
    with pytest.raises(AnnotationError, match="unknown unit id 'x-s9'"):
        val.validation_coding_read(tmp_path / "coder_A.csv", book, [r[0] for r in UNITS_ROWS])
    with pytest.raises(FileNotFoundError, match="units.csv"):
        val.validation_read(tmp_path / "nowhere", book)


def test_folds_keep_each_document_whole():
    docs = pd.Series([f"d{i // 3}" for i in range(21)], index=[f"u{i}" for i in range(21)])
    lodo = val.folds_by_document(docs.iloc[:9], n_splits=5)
    assert lodo.to_dict() == docs.iloc[:9].to_dict()  # three documents: leave one document out
    grouped = val.folds_by_document(docs, n_splits=3)
    assert grouped.nunique() == 3
    assert (pd.crosstab(docs, grouped) > 0).sum(axis=1).eq(1).all()  # no document in two folds
    pd.testing.assert_series_equal(grouped, val.folds_by_document(docs, n_splits=3))


# Six documents. Each has its own vocabulary: the units that have the code say so with the
# document's own phrase, and its other units are routine news with the document's own wording; the
# sentence frame is the same for both. No phrase is used by two documents.
PHRASES = [
    "签订劳务协作协议",
    "开展携手奔小康行动",
    "选派组团式医疗队",
    "拨付对口支援资金",
    "举办村企共建签约",
    "建设飞地产业园区",
]
ROUTINES = [
    ["召开季度例会", "发布统计公报", "部署冬季防火", "检查安全生产"],
    ["修订防汛预案", "整治人居环境", "普查古树名木", "清理河道垃圾"],
    ["维修乡村公路", "更换路灯设施", "补种行道树木", "疏通排水管网"],
    ["开展消防演练", "核查低保名单", "统计粮食产量", "调度春耕物资"],
    ["举办读书活动", "征集群众意见", "排查危旧房屋", "更新门牌号码"],
    ["巡查森林草原", "登记流动人口", "检修供水管道", "培训网格人员"],
]
PLACES = ["红寺堡区", "红河县", "百色市", "恩施州", "安顺市", "铜仁市"]


def _documents() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, ref = [], []
    for d, (phrase, routines, place) in enumerate(zip(PHRASES, ROUTINES, PLACES)):
        for k in range(4):
            rows.append((f"d{d}-p{k}", f"d{d}", f"{place}{phrase}，第{k + 1}批工作有序推进。"))
            ref.append((f"d{d}-p{k}", 1))
        for k, routine in enumerate(routines):
            rows.append((f"d{d}-r{k}", f"d{d}", f"{place}{routine}，第{k + 1}批工作有序推进。"))
            ref.append((f"d{d}-r{k}", 0))
    return (
        pd.DataFrame(rows, columns=["unit_id", "doc_id", "text"]),
        pd.DataFrame(ref, columns=["unit_id", "pairing"]),
    )


def _kappa(pred: pd.DataFrame, reference: pd.DataFrame, units) -> float:
    p = pred.set_index("unit_id").loc[units, "pairing"] >= 0.5
    r = reference.set_index("unit_id").loc[units, "pairing"]
    return rel.cohen_kappa(r.to_numpy(), p.astype(int).to_numpy())


def test_a_unit_split_overstates_what_a_new_document_gets():
    """Trained on other units of the same documents the coder learns each document's phrase; trained
    on the other documents only (leave one document out), it cannot, and its kappa drops."""
    units, reference = _documents()
    docs = units.set_index("unit_id")["doc_id"]
    lodo = val.units_predict(
        units, reference, ["pairing"], val.folds_by_document(docs, n_splits=10)
    )
    assert list(lodo["unit_id"]) == list(units["unit_id"])
    assert (lodo["fold"] == lodo["doc_id"]).all()
    # unit split: every second unit of every document held out, the rest train
    held = units["unit_id"].iloc[::2]
    unit_split = val.units_predict(
        units, reference, ["pairing"], pd.Series("holdout", index=held.to_numpy())
    )
    assert set(unit_split["unit_id"]) == set(held)
    k_units, k_docs = _kappa(unit_split, reference, held), _kappa(lodo, reference, held)
    assert k_units >= 0.9
    assert k_units - k_docs >= 0.3, (k_units, k_docs)
    again = val.units_predict(
        units, reference, ["pairing"], val.folds_by_document(docs, n_splits=10)
    )
    pd.testing.assert_frame_equal(lodo, again)  # deterministic


def test_a_code_nobody_used_in_training_is_not_learned():
    units, reference = _documents()
    reference["cultural"] = 0
    pred = val.units_predict(
        units,
        reference,
        ["pairing", "cultural"],
        val.folds_by_document(units.set_index("unit_id")["doc_id"]),
    )
    assert (pred["cultural"] == 0).all()
    assert pred["note"].str.contains("cultural: not learned").all()


def test_review_lists_what_the_learned_coder_codes_and_the_dictionary_does_not():
    units = pd.DataFrame(
        {
            "unit_id": ["a", "b", "c", "d"],
            "doc_id": ["x", "x", "y", "y"],
            "text": ["甲", "乙", "丙", "丁"],
        }
    )
    pred = pd.DataFrame(
        {
            "unit_id": ["a", "b", "c", "d"],
            "doc_id": ["x", "x", "y", "y"],
            "pairing": [0.9, 0.7, 0.2, 0.55],
            "industry": [0.6, 0.1, 0.1, 0.1],
        }
    )
    dictionary = pd.DataFrame(
        {"unit_id": ["a", "b", "c", "d"], "pairing": [1, 0, 0, 0], "industry": [0, 0, 0, 0]}
    )
    reference = pd.DataFrame(
        {"unit_id": ["a", "b", "c", "d"], "pairing": [1, 1, 0, 0], "industry": [0, 0, 0, 0]}
    )
    table = val.predictions_review(
        pred, dictionary, units, ["pairing", "industry"], reference=reference
    )
    assert list(zip(table["code"], table["unit_id"])) == [
        ("pairing", "b"),
        ("pairing", "d"),
        ("industry", "a"),
    ]
    assert table["reference"].tolist() == [1, 0, 0]
    assert table["text"].tolist() == ["乙", "丁", "甲"]
    assert (table["note"] == "dictionary did not code").all()
    long = val.predictions_to_codings(pred, ["pairing", "industry"])
    assert long[long["value"] == 1][["unit_id", "code"]].values.tolist() == [
        ["a", "pairing"],
        ["a", "industry"],
        ["b", "pairing"],
        ["d", "pairing"],
    ]
    assert np.array_equal(long["coder"].unique(), ["learned"])


@pytest.mark.notebooks
def test_reliability_notebook_reports_a_validation_set_by_document(tmp_path, book):
    """Notebooks 01 and 03 on the corpus, then 05 with a small validation set: the document-level
    tables, the suggestions and the second-opinion table are written."""
    import papermill as pm

    from helpers import paths
    from helpers.kernels import kernel_ensure
    from helpers.pipeline import pipeline_read

    processed, tables, vdir = tmp_path / "processed", tmp_path / "tables", tmp_path / "validation"
    vdir.mkdir()
    units, reference = _documents()
    units["split"] = units["doc_id"].map(lambda d: "holdout" if int(d[1:]) % 2 else "tune")
    units["genre"] = units["doc_id"].map(lambda d: "news" if int(d[1:]) < 3 else "report")
    units.to_csv(vdir / "units.csv", index=False)
    for coder, flip in (("annotator-C", set()), ("annotator-D", {"d0-p0", "d3-r1"})):
        coding = pd.DataFrame({"unit_id": units["unit_id"], "coder": coder})
        for c in book.ids:
            coding[c] = 0
        coding["pairing"] = [
            int(v != (u in flip)) for u, v in zip(reference["unit_id"], reference["pairing"])
        ]
        coding.to_csv(vdir / f"coder_{coder[-1]}.csv", index=False)
    kernel = kernel_ensure(pipeline_read().kernel)
    common = {"processed_dir": str(processed), "tables_dir": str(tables)}
    for name, extra in (
        ("01_text_cleanup", {}),
        ("03_thematic_coding", {}),
        ("05_coding_reliability", {"validation_dir": str(vdir), "agreement_bootstrap": 199}),
    ):
        pm.execute_notebook(
            str(paths.NOTEBOOKS / f"{name}.ipynb"),
            str(tmp_path / f"{name}.ipynb"),
            parameters={**common, **extra},
            kernel_name=kernel,
            progress_bar=False,
            cwd=str(paths.ROOT),
        )
    validity = pd.read_csv(tables / "reliability_validity.csv", keep_default_na=False)
    evaluations = set(zip(validity["evaluation"], validity["coder"]))
    assert ("validation set, holdout documents", "dictionary") in evaluations
    assert ("validation set, holdout documents", "learned") in evaluations
    assert ("corpus, leave one document out", "learned") in evaluations
    assert any(e.startswith("corpus, unit split") for e, _ in evaluations)
    holdout = validity[
        (validity["evaluation"] == "validation set, holdout documents")
        & (validity["code"] == "pairing")
    ]
    assert (holdout["n_units"] == 24).all()  # three held-out documents of eight units
    assert holdout["note"].str.contains("no interval").all()  # fewer than five documents
    by = pd.read_csv(tables / "validation_agreement_by.csv", keep_default_na=False)
    assert {"genre", "doc_id"} <= set(by["by"])
    review = pd.read_csv(tables / "reliability_second_opinion.csv", keep_default_na=False)
    assert list(review.columns) == [
        "code",
        "unit_id",
        "doc_id",
        "probability",
        "reference",
        "text",
        "note",
    ]
    terms = pd.read_csv(tables / "codebook_suggestions_terms.csv", keep_default_na=False)
    assert list(terms.columns[:3]) == ["code", "term", "g2"]
    # only units allowed for refining: corpus dev units and the tune documents, never held-out ones
    held = set(units.loc[units["split"] == "holdout", "unit_id"])
    assert not any(u in held for ids in terms["example_unit_ids"] for u in ids.split())
    assert (tables / "codebook_suggestions_indicators.csv").exists()


# --------------------------------------------------------------------------------------------------
# Notebook 05's protocol in one call: the validation set evaluated, units for refining and review
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def evaluated(book):
    """Six documents of the set (two held out), coded by a reference and a second annotator who
    differs on two units; two corpus units with a reference coding that only train."""
    from helpers import tokens

    units, reference = _documents()
    units["genre"] = units["doc_id"].map(lambda d: "news" if int(d[1:]) < 3 else "report")
    units["script"] = "simplified"
    units["split"] = units["doc_id"].map(lambda d: "holdout" if d in ("d1", "d4") else "tune")
    codings = []
    for coder, flip in (("annotator-C", set()), ("annotator-D", {"d1-p0", "d2-r1"})):
        wide = pd.DataFrame({"unit_id": units["unit_id"]})
        for c in book.ids:
            wide[c] = 0
        wide["pairing"] = [
            int(v != (u in flip)) for u, v in zip(reference["unit_id"], reference["pairing"])
        ]
        codings.append(ann.codings_from_wide(wide, coder, book.ids))
    vs = val.ValidationSet(path=None, units=units, codings=pd.concat(codings, ignore_index=True))
    corpus_units = pd.DataFrame(
        {
            "unit_id": ["k-1-p1-s1", "k-1-p1-s2"],
            "doc_id": ["k", "k"],
            "text": ["两地结对帮扶持续深化。", "会议部署了冬季防火工作。"],
        }
    )
    corpus_reference = pd.DataFrame({"unit_id": corpus_units["unit_id"]})
    for c in book.ids:
        corpus_reference[c] = 0
    corpus_reference.loc[0, "pairing"] = 1
    evaluation = val.validation_evaluate(
        vs,
        book,
        tokens.segmenter_make(),
        corpus_units,
        corpus_reference,
        n_splits=10,
        n_bootstrap=50,
        seed=1,
    )
    return evaluation, corpus_units, corpus_reference


def test_validation_evaluate_compares_both_coders_by_document(evaluated, book):
    ev, corpus_units, _ = evaluated
    assert ev.reference_coder == "annotator-C"  # the first coder's file, by default
    assert list(ev.agreements) == [
        ("validation set, holdout documents", "dictionary"),
        ("validation set, holdout documents", "learned"),
        ("validation set, tune documents", "dictionary"),
        ("validation set, tune documents", "learned"),
        ("validation set, all documents (human–human)", "annotator-C+annotator-D"),
    ]
    held = ev.agreements["validation set, holdout documents", "dictionary"].set_index("code")
    assert held.loc["pairing", "n_units"] == 16  # two held-out documents of eight units
    human = ev.agreements["validation set, all documents (human–human)", "annotator-C+annotator-D"]
    pairing = human.set_index("code").loc["pairing"]
    assert (pairing["n_first_only"], pairing["n_second_only"]) == (1, 1)  # d1-p0, d2-r1
    # the learned coder: each validation document predicted by a model that never saw it; the
    # corpus units only train
    assert (ev.predictions["fold"] == ev.predictions["doc_id"]).all()
    assert set(ev.predictions["unit_id"]) == set(ev.units["unit_id"])
    assert not set(corpus_units["unit_id"]) & set(ev.predictions["unit_id"])
    # by genre, script and document: held-out documents only
    by_doc = ev.agreement_by[ev.agreement_by["by"] == "doc_id"]
    assert set(by_doc["group"]) == {"d1", "d4"}
    assert set(ev.agreement_by["by"]) == {"genre", "script", "doc_id"}
    # every disagreement is one: the dictionary's value differs from the reference coder's
    dictionary = ev.coding.wide.set_index("unit_id")
    reference = ev.reference.set_index("unit_id")
    for r in ev.disagreements.itertuples():
        assert dictionary.at[r.unit_id, r.code] != reference.at[r.unit_id, r.code]
        assert r.split == ev.split[r.unit_id]
    table = ev.coding_table()
    assert list(table.columns) == ["unit_id", *book.ids, "evidence", "doc_id", "text"]
    assert "48 units in 6 documents" in ev.describe()


def test_units_for_refining_never_hold_held_out_units(evaluated, book):
    ev, corpus_units, corpus_reference = evaluated
    dictionary = corpus_reference.assign(pairing=0)
    corpus = val.CodedUnits(corpus_units, corpus_reference, dictionary, pd.DataFrame())
    unit_split = pd.Series(["dev", "holdout"], index=corpus_units["unit_id"])
    alone = val.units_for_refining(corpus, unit_split, book.ids)
    assert list(alone.units["unit_id"]) == ["k-1-p1-s1"]
    assert list(alone.reference["unit_id"]) == ["k-1-p1-s1"]
    refine = val.units_for_refining(corpus, unit_split, book.ids, ev)
    docs = set(refine.units["unit_id"].str.split("-").str[0])
    assert docs == {"k", "d0", "d2", "d3", "d5"}  # no unit of d1 or d4 (held out), nor k's second
    assert list(refine.units["unit_id"]) == list(refine.reference["unit_id"])
    assert len(refine.dictionary) == 2 + 48  # looked up by unit id: every unit
    # the second opinion covers the corpus and the validation set, with the reference's value:
    # a learned coder sure of pairing everywhere lists every unit the dictionary did not code
    sure = dataclasses.replace(ev, predictions=ev.predictions.assign(pairing=0.9))
    corpus_pred = corpus_units.assign(fold="k", pairing=[0.9, 0.1])
    review = val.second_opinion_list(corpus, corpus_pred, ["pairing"], sure)
    not_coded = ev.coding.wide.loc[ev.coding.wide["pairing"] == 0, "unit_id"]
    assert set(review["unit_id"]) == {"k-1-p1-s1", *not_coded}
    ref = pd.concat([corpus_reference, ev.reference]).set_index("unit_id")["pairing"]
    assert review["reference"].tolist() == review["unit_id"].map(ref).tolist()
    assert 0 < review["reference"].sum() < len(review)
