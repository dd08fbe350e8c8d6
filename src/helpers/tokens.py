"""Segmentation with jieba: user dictionary, stopwords, POS tags, content-word filtering and KWIC.

jieba is the reference segmenter. Because segmentation is the pipeline's hot path, tokens are
produced by rjieba (the Rust port of jieba) when it is installed, which is token-identical to
``jieba.lcut(text, HMM=True)`` with the same user dictionary once runs of ASCII joined by ``. - _``
are split the way jieba splits them (:func:`_ascii_resplit`); a test compares the two on every
sentence of the corpus. ``backend="jieba"`` uses pure jieba.

Results are cached per document under ``.cache/segments/``, keyed by the document's unit texts,
the dictionary hash, the HMM switch and the backend, so a re-run segments only what changed.
jieba's own dictionary cache is kept in ``.cache/jieba/`` instead of the shared ``/tmp`` file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers import paths
from helpers.errors import InputError, path_display
from helpers.tables import path_resolve, text_write

#: The user dictionary and domain stopwords shipped with the project.
USER_DICT = paths.DATA / "dictionaries" / "user_dict.csv"
DOMAIN_STOPWORDS = paths.DATA / "dictionaries" / "stopwords_domain.txt"
SEGMENT_CACHE = paths.CACHE / "segments"

#: jieba POS tags kept as content words by default: nouns (n, nr, ns, nt, nz, ng, nl), verbal and
#: adjectival nouns (vn, an), verbs (v), adjectives (a), idioms (i), fixed phrases (l),
#: abbreviations (j) and Latin words (eng).
CONTENT_POS: tuple[str, ...] = (
    "n",
    "nr",
    "ns",
    "nt",
    "nz",
    "ng",
    "nl",
    "vn",
    "an",
    "v",
    "a",
    "i",
    "l",
    "j",
    "eng",
)


class DictionaryError(InputError):
    """A user dictionary or stopword file is malformed; the message names the file and the line
    (the format of every :class:`~helpers.errors.InputError`)."""


class DictionaryWarning(UserWarning):
    """A user dictionary was read, but not as saved by the project (e.g. in GB18030, not UTF-8)."""


# --------------------------------------------------------------------------------------------------
# Dictionaries
# --------------------------------------------------------------------------------------------------


_NEWLINE = b"\n"


def _dictionary_text(p: Path) -> str:
    """The text of a user dictionary: UTF-8 (BOM or not), else GB18030 with a warning, or an error.

    GB18030 is accepted only when the charset detection of :func:`helpers.corpus.text_decode`
    agrees (Big5 bytes, for instance, often decode as GB18030 into wrong characters, silently).
    """
    data = p.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(_NEWLINE) + 1
    from helpers.corpus import DocumentError, text_decode

    try:
        text, encoding = text_decode(data, path=p)
    except DocumentError:
        encoding = ""
    if encoding == "gb18030":
        warnings.warn(
            f"{path_display(p)}, line {line}: not UTF-8, read as GB18030 (Excel's 'CSV' on Chinese "
            "Windows). To be safe, save it as 'CSV UTF-8 (逗号分隔)' in Excel, or as UTF-8 in a "
            "text editor",
            DictionaryWarning,
            stacklevel=3,
        )
        return text
    guess = f"; it looks like {encoding}" if encoding else ""
    raise DictionaryError(
        p,
        f"not UTF-8{guess}. Save the user dictionary as 'CSV UTF-8 (逗号分隔)' in Excel, or as "
        "UTF-8 in a text editor",
        line=line,
    )


def dictionary_read(path: str | Path = USER_DICT) -> pd.DataFrame:
    """Read a user dictionary (CSV: ``word,pos,source``, optional ``freq``) and return it validated.

    Why a CSV and not jieba's ``word freq tag`` text file: researchers edit it in Excel or a text
    editor, and every entry says where it came from (``source``). Errors name the file and line:
    a missing column, an empty word, a word with spaces, a duplicate word, a non-integer freq.
    UTF-8 (with or without BOM) is read as it is; a file saved as GB18030/GBK (Excel's "CSV" on
    Chinese Windows) is read with a :class:`DictionaryWarning`; any other encoding is an error
    that names the file and says to save it as "CSV UTF-8".
    """
    p = path_resolve(path)
    if not p.exists():
        raise DictionaryError(p, "user dictionary not found")
    rows = list(csv.DictReader(io.StringIO(_dictionary_text(p), newline="")))
    header = rows[0].keys() if rows else []
    missing = {"word", "pos", "source"} - set(header)
    if missing:
        raise DictionaryError(
            p, f"missing column(s) {sorted(missing)} (need word,pos,source)", line=1
        )
    seen: dict[str, int] = {}
    out = []
    for lineno, row in enumerate(rows, start=2):
        word = (row.get("word") or "").strip()
        if not word:
            raise DictionaryError(p, "empty word", line=lineno, field="word")
        if re.search(r"\s", word):
            raise DictionaryError(p, f"{word!r} contains a space", line=lineno, field="word")
        if word in seen:
            raise DictionaryError(
                p, f"{word!r} already on line {seen[word]}", line=lineno, field="word"
            )
        seen[word] = lineno
        freq = (row.get("freq") or "").strip()
        if freq and not freq.isdigit():
            raise DictionaryError(p, f"{freq!r} is not a whole number", line=lineno, field="freq")
        out.append(
            {
                "word": word,
                "pos": (row.get("pos") or "").strip() or "nz",
                "freq": int(freq) if freq else None,
                "source": (row.get("source") or "").strip(),
            }
        )
    return pd.DataFrame(out, columns=["word", "pos", "freq", "source"])


def stopwords_read(
    files: Sequence[str | Path] = (DOMAIN_STOPWORDS,), *, base: str | None = "stopwords-iso"
) -> pd.DataFrame:
    """Return the stopword list as a table ``word, source`` (one row per word, first source wins).

    ``base="stopwords-iso"`` starts from the published stopwords-iso Chinese list (package
    ``stopwordsiso``); ``files`` add words, one per line, ``#`` starting a comment.
    """
    rows: dict[str, str] = {}
    if base == "stopwords-iso":
        import stopwordsiso

        for w in sorted(stopwordsiso.stopwords("zh")):
            rows.setdefault(w, "stopwords-iso zh")
    elif base:
        raise ValueError(f"unknown stopword base list {base!r}; use 'stopwords-iso' or None")
    for f in files:
        p = path_resolve(f)
        if not p.exists():
            raise DictionaryError(p, "stopword file not found")
        for line in p.read_text(encoding="utf-8-sig").splitlines():
            word = line.split("#", 1)[0].strip()
            if word:
                rows.setdefault(word, p.name)
    return pd.DataFrame({"word": list(rows), "source": list(rows.values())})


# --------------------------------------------------------------------------------------------------
# Segmenter
# --------------------------------------------------------------------------------------------------

_ASCII_JOINED = re.compile(r"[A-Za-z0-9+#&%]*[._\-][A-Za-z0-9+#&._%\-]*")
_RE_SKIP = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")  # jieba.finalseg.re_skip
# A text without this can hold no token that _ASCII_JOINED matches (a joiner next to another ASCII
# word character), so rjieba's tokens are returned as they are.
_ASCII_JOINER_NEAR = re.compile(r"[._\-][A-Za-z0-9+#&%._\-]|[A-Za-z0-9+#&%][._\-]")


@dataclass
class Segmenter:
    """A configured jieba tokenizer (and its rjieba twin) with the user dictionary loaded.

    ``signature`` identifies everything that changes tokens (jieba version, dictionary hash, HMM,
    backend); it keys the segmentation cache. jieba's own tokenizer (:attr:`jieba`) is built on
    first use: when rjieba cuts, only POS tags and keyword extraction need it, and loading its
    dictionary is most of the time of :func:`segmenter_make`.
    """

    backend: str
    hmm: bool
    dictionary: pd.DataFrame
    signature: str
    rjieba: object | None = field(default=None, repr=False)
    entries: tuple[tuple[str, int | None, str | None], ...] = field(default=(), repr=False)
    _jieba: object | None = field(default=None, repr=False)
    _pos: object | None = field(default=None, repr=False)
    _oov_pos: dict = field(default_factory=dict, repr=False)

    @property
    def jieba(self):
        """The ``jieba.Tokenizer`` with the user dictionary (``entries``) added, built once."""
        if self._jieba is None:
            self._jieba = _jieba_tokenizer(self.entries)
        return self._jieba

    def cut(self, text: str) -> list[str]:
        """Return the tokens of ``text``, identical to ``jieba.lcut(text, HMM=hmm)``."""
        if self.rjieba is None:
            return self.jieba.lcut(text, HMM=self.hmm)
        if not _ASCII_JOINER_NEAR.search(text):
            return self.rjieba.cut(text, self.hmm)
        out: list[str] = []
        for t in self.rjieba.cut(text, self.hmm):
            if (
                len(t) > 1
                and t.isascii()
                and _ASCII_JOINED.fullmatch(t)
                and not _RE_SKIP.fullmatch(t)
                and not self.rjieba.has_word(t)
            ):
                out.extend(x for x in _RE_SKIP.split(t) if x)
            else:
                out.append(t)
        return out

    @property
    def postokenizer(self):
        """The ``jieba.posseg.POSTokenizer`` of this segmenter's dictionary (user tags loaded).

        Built once, on first use.
        """
        if self._pos is None:
            self._pos = _pos_tokenizer(self.jieba)
        return self._pos

    def pos(self, token: str) -> str:
        """Return the jieba POS tag of a token: dictionary or user tag, else jieba.posseg's."""
        tag = self.postokenizer.word_tag_tab.get(token)
        if tag:
            return tag
        if token in self._oov_pos:
            return self._oov_pos[token]
        if token.isspace():
            tag = "x"
        elif re.fullmatch(r"[\d.,%]+", token):
            tag = "m"
        elif token.isascii() and token.isalpha():
            tag = "eng"
        elif not re.search(r"\w", token):
            tag = "x"
        else:
            pairs = list(self._pos.cut(token, HMM=self.hmm))
            tag = pairs[0].flag if len(pairs) == 1 else max(pairs, key=lambda p: len(p.word)).flag
        self._oov_pos[token] = tag
        return tag

    def pos_tags(
        self, tokens: Iterable[str], *, cache_dir: str | Path | None = SEGMENT_CACHE
    ) -> dict[str, str]:
        """Return {token: :meth:`pos` tag} for the distinct ``tokens``, kept in ``cache_dir``.

        A token's tag depends only on the token and on what :attr:`signature` names, so the tags of
        earlier runs are kept in one file per signature (``pos/<hash>.json``). When every token is
        known there, jieba's tokenizer and its POS table (1–2 s) are never loaded: after a codebook
        edit, notebooks 04 and 05 tag the tokens notebook 02 tagged. A file that cannot be read is
        ignored and written again; two notebooks writing at once each replace it whole (atomic), so
        the worst case is a tag looked up again.
        """
        wanted = list(dict.fromkeys(tokens))
        path = None
        known: dict[str, str] = {}
        if cache_dir:
            key = hashlib.sha256(self.signature.encode("utf-8")).hexdigest()[:16]
            path = path_resolve(cache_dir) / "pos" / f"{key}.json"
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    known = {k: v for k, v in loaded.items() if isinstance(v, str)}
            except (OSError, ValueError):
                known = {}
        missing = [t for t in wanted if t not in known]
        for t in missing:
            known[t] = self.pos(t)
        if path is not None and missing:
            path.parent.mkdir(parents=True, exist_ok=True)
            text_write(json.dumps(known, ensure_ascii=False, sort_keys=True), path)
        return {t: known[t] for t in wanted}


def _pos_tokenizer(tok):
    """Return a ``jieba.posseg.POSTokenizer`` over ``tok`` with the user dictionary's tags loaded.

    ``POSTokenizer(tok)`` parses jieba's 350,000-line dictionary file for its word → tag table
    (about a second), which importing ``jieba.posseg`` has already done once for its default
    tokenizer. When ``tok`` uses the same dictionary file, that table is copied instead (0.02 s).
    (The project never adds words to jieba's global tokenizer, whose tags would otherwise be
    copied too.)
    """
    import jieba
    import jieba.posseg

    dt = jieba.posseg.dt
    if tok.dictionary != dt.tokenizer.dictionary:
        pt = jieba.posseg.POSTokenizer(tok)
    else:
        pt = object.__new__(jieba.posseg.POSTokenizer)
        pt.tokenizer = tok
        pt.word_tag_tab = dict(dt.word_tag_tab)
    pt.makesure_userdict_loaded()
    return pt


def _jieba_tokenizer(entries: Sequence[tuple[str, int | None, str | None]]):
    """Return a ``jieba.Tokenizer`` with ``entries`` added in order (its dictionary cache kept in
    ``.cache/jieba/``); loading jieba's dictionary takes about a second."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    cache_dir = paths.CACHE / "jieba"
    cache_dir.mkdir(parents=True, exist_ok=True)
    tok.tmp_dir = str(cache_dir)
    for word, freq, pos in entries:
        tok.add_word(word, freq, pos)
    return tok


def segmenter_make(
    user_dict: str | Path | pd.DataFrame | None = USER_DICT,
    *,
    backend: str = "auto",
    hmm: bool = True,
) -> Segmenter:
    """Return a :class:`Segmenter` with the user dictionary loaded.

    ``backend``: ``"auto"`` (rjieba when installed, else jieba), ``"rjieba"`` or ``"jieba"``.
    Every dictionary word is added with ``add_word(word, freq, pos)`` in file order to both jieba
    and rjieba (an empty freq lets jieba choose one that keeps the word whole). With rjieba, jieba
    itself is neither imported nor loaded until :attr:`Segmenter.jieba` is first used.
    """
    from importlib.metadata import version

    if backend not in ("auto", "rjieba", "jieba"):
        raise ValueError(f"backend must be 'auto', 'rjieba' or 'jieba', not {backend!r}")
    words = (
        user_dict
        if isinstance(user_dict, pd.DataFrame)
        else dictionary_read(user_dict)
        if user_dict is not None
        else pd.DataFrame(columns=["word", "pos", "freq", "source"])
    )
    entries = tuple(
        (word, None if pd.isna(freq) else int(freq), pos or None)
        for word, freq, pos in zip(words["word"], words["freq"], words["pos"])
    )
    rj = None
    if backend in ("auto", "rjieba"):
        try:
            import rjieba
        except ImportError:
            if backend == "rjieba":
                raise
        else:
            rj = rjieba.Jieba()
            for word, freq, pos in entries:
                rj.add_word(word, freq, pos)
    used = "rjieba" if rj is not None else "jieba"
    digest = hashlib.sha256(
        json.dumps([list(e) for e in entries], ensure_ascii=False).encode("utf-8")
    ).hexdigest()[:16]
    # jieba's version from its metadata (importing jieba costs 0.2 s): the same string as
    # jieba.__version__ (a test checks)
    signature = f"tokens-v2|jieba-{version('jieba')}|dict-{digest}|hmm-{int(hmm)}|{used}"
    seg = Segmenter(
        backend=used, hmm=hmm, dictionary=words, signature=signature, rjieba=rj, entries=entries
    )
    if used == "jieba":
        seg.jieba  # noqa: B018  (built now: it does the cutting)
    return seg


# --------------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------------


def _doc_key(segmenter: Segmenter, texts: Sequence[str]) -> str:
    h = hashlib.sha256(segmenter.signature.encode("utf-8"))
    for t in texts:
        h.update(b"\x00" + t.encode("utf-8"))
    return h.hexdigest()


def texts_cut(texts: list[str], segmenter: Segmenter) -> list[list[str]]:
    """Return the tokens of every text, cut in simplified script (offsets match the original text).

    The texts are converted to simplified script in one OpenCC call (joined by newlines, which no
    conversion crosses), not one call per text: a third of the time on short sentences.
    """
    from helpers.text import text_simplify_aligned

    simple = text_simplify_aligned("\n".join(texts))
    out, pos = [], 0
    for text in texts:
        out.append(segmenter.cut(simple[pos : pos + len(text)]))
        pos += len(text) + 1
    return out


class CacheWarning(UserWarning):
    """A cache entry could not be used (cut short, corrupt): it is discarded and rebuilt."""


def _cache_read(path: Path, texts: Sequence[str]) -> list[list[str]] | None:
    """The token lists cached in ``path``, or None when there is none or it cannot be used.

    An entry that is not valid JSON (a run killed or a disk full while it was written by an older
    version, a file edited by hand) or does not fit the texts (one token list per text, tokens that
    join up to the text) is removed with a :class:`CacheWarning` naming the file, and rebuilt.
    """
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        lists = json.loads(raw)
        fits = (
            isinstance(lists, list)
            and len(lists) == len(texts)
            and all(
                isinstance(toks, list) and sum(len(t) for t in toks) == len(text)
                for toks, text in zip(lists, texts)
            )
        )
        reason = "" if fits else "does not match the texts of its document"
    except (ValueError, TypeError) as exc:  # JSONDecodeError, UnicodeDecodeError are ValueErrors
        reason = f"is not valid JSON ({exc})"
    if not reason:
        return lists
    warnings.warn(
        f"{path_display(path)}: segmentation cache entry {reason}; discarded, the document is "
        "segmented again",
        CacheWarning,
        stacklevel=3,
    )
    path.unlink(missing_ok=True)
    return None


def tokens_segment(
    units: pd.DataFrame,
    segmenter: Segmenter,
    *,
    text_col: str = "text",
    id_col: str = "unit_id",
    cache_dir: str | Path | None = SEGMENT_CACHE,
    progress: bool = False,
    pos: bool = True,
) -> pd.DataFrame:
    """Segment every unit; one row per token: doc_id, unit_id, position, start, end, token, pos.

    Texts are segmented in simplified script (a traditional-script document gets the same tokens as
    its simplified twin), and ``start``/``end`` are character offsets into the unit's original text.
    Whitespace tokens are dropped; positions count the kept tokens from 0 within each unit. Per
    document, tokens come from the cache when the unit texts and the segmenter's signature are
    unchanged. ``pos`` is the jieba tag of the token (see :meth:`Segmenter.pos`), so POS filtering
    uses exactly the tokens of ``jieba.lcut``. ``pos=False`` leaves the ``pos`` column out: the
    tags need jieba's own dictionary (about a second to load), word boundaries do not.
    """
    cache = path_resolve(cache_dir) if cache_dir else None
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
    frames = []
    groups = list(units.groupby("doc_id", sort=False)) if "doc_id" in units else [("", units)]
    if progress:
        from tqdm import tqdm

        groups = tqdm(groups, desc="segmentation", unit="doc")
    for doc_id, doc_units in groups:
        texts = doc_units[text_col].astype(str).tolist()
        key = _doc_key(segmenter, texts)
        cached = cache / f"{key}.json" if cache else None
        token_lists = _cache_read(cached, texts) if cached else None
        if token_lists is None:
            token_lists = texts_cut(texts, segmenter)
            if cached:
                text_write(json.dumps(token_lists, ensure_ascii=False), cached)
        cols: dict[str, list] = {"unit_id": [], "position": [], "start": [], "end": [], "token": []}
        for uid, toks in zip(doc_units[id_col].tolist(), token_lists):
            offset, position = 0, 0
            for t in toks:
                if not t.isspace():
                    cols["unit_id"].append(uid)
                    cols["position"].append(position)
                    cols["start"].append(offset)
                    cols["end"].append(offset + len(t))
                    cols["token"].append(t)
                    position += 1
                offset += len(t)
        frames.append(pd.DataFrame({"doc_id": doc_id, **cols}))
    empty = pd.DataFrame(columns=["doc_id", "unit_id", "position", "start", "end", "token"])
    tokens = pd.concat(frames, ignore_index=True) if frames else empty
    if not pos:
        return tokens
    distinct = segmenter.pos_tags(pd.unique(tokens["token"]), cache_dir=cache_dir)
    tokens["pos"] = tokens["token"].map(distinct)
    return tokens


def tokens_select(
    tokens: pd.DataFrame,
    stopwords: Iterable[str] | pd.DataFrame,
    *,
    pos_keep: Sequence[str] | None = CONTENT_POS,
    min_chars: int = 2,
    keep: Iterable[str] = (),
) -> pd.DataFrame:
    """Mark content words: return ``tokens`` with ``is_stopword`` and ``is_content`` columns.

    A token is content when it is not a stopword, has at least ``min_chars`` characters, contains a
    letter or ideograph, and its POS is in ``pos_keep`` (``None`` keeps every POS). Words in
    ``keep`` (e.g. the user dictionary) are content whatever their POS or length, unless they are
    stopwords. Rows are marked, not removed, so every count can be traced back to its unit.
    """
    stop = set(stopwords["word"]) if isinstance(stopwords, pd.DataFrame) else set(stopwords)
    keep_set = set(keep)
    tok = tokens["token"]
    is_stop = tok.isin(stop)
    wordlike = tok.str.contains(r"[^\W\d_]", regex=True)
    long_enough = tok.str.len() >= min_chars
    pos_ok = tokens["pos"].isin(pos_keep) if pos_keep is not None else True
    content = ~is_stop & wordlike & ((long_enough & pos_ok) | tok.isin(keep_set))
    return tokens.assign(is_stopword=is_stop, is_content=content)


def tokens_kwic(
    tokens: pd.DataFrame,
    keywords: Sequence[str],
    *,
    window: int = 8,
    segmenter: Segmenter | None = None,
    units: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return a keyword-in-context table, as quanteda's ``kwic``: one row per hit.

    Columns: doc_id, unit_id, position, keyword, pre, hit, post (``window`` tokens each side, within
    the unit), and heading_path when ``units`` is given. With a ``segmenter``, a keyword that jieba
    cuts into several tokens (a phrase such as ``产业园区建设``) is matched as that token sequence.
    """
    seqs = {kw: (segmenter.cut(kw) if segmenter else [kw]) for kw in keywords}
    firsts = {seq[0] for seq in seqs.values()}
    rows = []
    hit_units = tokens[tokens["token"].isin(firsts)]
    unit_tokens = tokens[tokens["unit_id"].isin(set(hit_units["unit_id"]))].groupby(
        "unit_id", sort=False
    )["token"]
    unit_tokens = unit_tokens.agg(list)
    for unit_id, grp in hit_units.groupby("unit_id", sort=False):
        toks = unit_tokens[unit_id]
        doc_id = grp["doc_id"].iloc[0]
        for i in grp["position"]:
            for kw, seq in seqs.items():
                if toks[i : i + len(seq)] == seq:
                    rows.append(
                        {
                            "doc_id": doc_id,
                            "unit_id": unit_id,
                            "position": int(i),
                            "keyword": kw,
                            "pre": "".join(toks[max(0, i - window) : i]),
                            "hit": "".join(seq),
                            "post": "".join(toks[i + len(seq) : i + len(seq) + window]),
                        }
                    )
    out = pd.DataFrame(
        rows, columns=["doc_id", "unit_id", "position", "keyword", "pre", "hit", "post"]
    )
    if units is not None:
        headings = units.drop_duplicates("unit_id").set_index("unit_id")["heading_path"]
        out["heading_path"] = out["unit_id"].map(headings)
    return out


def dictionary_report(
    dictionary: pd.DataFrame, segmenter: Segmenter, units: pd.DataFrame
) -> pd.DataFrame:
    """Report, for each dictionary word, whether it comes out as one token and how often it occurs.

    Returns word, source, n_units_with_substring (the word appears in the text), n_tokens (as a
    token), and whole (cut(word) == [word]): a word that is in the text but never a token is
    swallowed by a longer word or split, and a researcher should look at it.
    """
    texts = units["text"].astype(str)
    rows = []
    for r in dictionary.itertuples():
        n_text = int(texts.str.contains(r.word, regex=False).sum())
        n_tok = sum(
            segmenter.cut(t).count(r.word) for t in texts[texts.str.contains(r.word, regex=False)]
        )
        rows.append(
            {
                "word": r.word,
                "source": r.source,
                "units_with_word": n_text,
                "times_as_token": n_tok,
                "whole": segmenter.cut(r.word) == [r.word],
            }
        )
    return pd.DataFrame(rows)
