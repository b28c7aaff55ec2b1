"""Text helpers for report sources: decoding, punctuation folding, paragraph joining, numbers.

Reports arrive as UTF-8 (with or without BOM), GBK/GB18030 text or PDF text extracted by
pdfplumber. Extraction breaks lines (and words) anywhere, so paragraphs are rebuilt from lines
before any sentence is matched.
"""

from __future__ import annotations

import re
import codecs
import unicodedata
from collections.abc import Collection
from decimal import Decimal, InvalidOperation

# Characters NFKC folds that the template's names keep full-width.
_KEEP_FULLWIDTH = {"(": "（", ")": "）", ":": "：", ",": "，", ";": "；", "!": "！", "?": "？"}
_QUOTES = {"\u201c": "“", "\u201d": "”", '"': "“", "'": "‘"}


def decode_bytes(data: bytes) -> str | None:
    """Text of a file's bytes: UTF-8 (with or without BOM; a character cut at the very end, as by
    a truncated download, left out), UTF-16 with its BOM (Notepad's "Unicode") or GB18030; None if
    binary."""
    if not data:
        return ""
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in data[:4096] and not utf16:
        return None
    for encoding in ("utf-16",) if utf16 else ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            if encoding != "utf-8-sig" or exc.reason != "unexpected end of data":
                continue
            text = _without_cut_end(data)
            if text is None:
                continue
        # gb18030 decodes almost anything: refuse text that is mostly control characters.
        controls = sum(1 for ch in text[:4096] if unicodedata.category(ch) == "Cc" and ch not in "\r\n\t\f")
        if controls > max(8, len(text[:4096]) // 50):
            return None
        return text
    return None


def _without_cut_end(data: bytes) -> str | None:
    """UTF-8 text whose last character was cut (1 to 3 of its bytes missing), without it."""
    for cut in (1, 2, 3):
        try:
            return data[:-cut].decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
    return None


# CJK Radicals Supplement glyphs some PDF producers (chromium's Skia among them) emit for ordinary
# characters (部⻔ for 部门, ⺠营 for 民营); NFKC already maps the Kangxi radicals (⼀ U+2F00 -> 一),
# not these. Each with its ordinary character, as Unicode's EquivalentUnifiedIdeograph.txt pairs
# them (U+2E81-U+2EF3, all 114; U+2E80 has none).
_RADICAL_PAIRS = (
    "⺁厂 ⺂乛 ⺃乚 ⺄乙 ⺅亻 ⺆冂 ⺇𠘨 ⺈刀 ⺉刂 ⺊卜 ⺋㔾 ⺌小 ⺍小 ⺎兀 ⺏尣 ⺐尢 ⺑𡯂 ⺒巳 ⺓幺 ⺔彑 ⺕𫜹 ⺖忄 ⺗心 ⺘扌 ⺙攵 ⺛旡 ⺜日 ⺝月 ⺞歺 ⺟母 ⺠民 "
    "⺡氵 ⺢氺 ⺣灬 ⺤爫 ⺥爫 ⺦丬 ⺧牛 ⺨犭 ⺩王 ⺪𤴔 ⺫目 ⺬示 ⺭礻 ⺮𥫗 ⺯糹 ⺰纟 ⺱罓 ⺲罒 ⺳㓁 ⺴冗 ⺵𦉫 ⺶羊 ⺷𦍌 ⺸𦍋 ⺹耂 ⺺肀 ⺻聿 ⺼肉 ⺽𦥑 ⺾艹 ⺿艹 "
    "⻀艹 ⻁虎 ⻂衤 ⻃覀 ⻄西 ⻅见 ⻆角 ⻇𧢲 ⻈讠 ⻉贝 ⻊𧾷 ⻋车 ⻌辶 ⻍辶 ⻎辶 ⻏邑 ⻐钅 ⻑長 ⻒镸 ⻓长 ⻔门 ⻕𨸏 ⻖阝 ⻗雨 ⻘青 ⻙韦 ⻚页 ⻛风 ⻜飞 ⻝食 ⻞𩙿 "
    "⻟飠 ⻠饣 ⻡𩠐 ⻢马 ⻣骨 ⻤鬼 ⻥鱼 ⻦鸟 ⻧卤 ⻨麦 ⻩黄 ⻪黾 ⻫斉 ⻬齐 ⻭歯 ⻮齿 ⻯竜 ⻰龙 ⻱龜 ⻲亀 ⻳龟"
)
RADICALS = str.maketrans({**dict(_RADICAL_PAIRS.split()),
                          # 户 as the traditional form 戶 (U+6236), which chromium's Noto CJK font maps it
                          # to in a PDF's text: 经营戶 is not found by a search for 经营户
                          "戶": "户"})


#: A unit after a word, not after a figure: "年初预算为 万元" (the figure on another line).
_UNIT_WITHOUT_FIGURE = re.compile(r"[\u4e00-\u9fff（）：，；、][^\S\n]+(?:万元|亿元)")


def units_without_figures(text: str) -> list[tuple[int, str]]:
    """(line number, the line) of each unit written after a word where its figure should be: a
    PDF's text extracted as the page lays it out puts a line's figures on a line of their own."""
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if _UNIT_WITHOUT_FIGURE.search(line)]


def radical_glyphs(text: str) -> str:
    """Radical glyphs replaced by the ordinary characters (Kangxi radicals by NFKC), the rest as is."""
    text = text.translate(RADICALS)
    return re.sub(r"[\u2f00-\u2fdf]", lambda m: unicodedata.normalize("NFKC", m.group()), text)


def fold(text: str) -> str:
    """One spelling of punctuation and digits: NFKC, then （）：，；！？ full-width, "1,234" kept."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u3000", " ").replace("\xa0", " ")
    # A half-width comma between digits is a thousands separator: keep it as ","; any other
    # comma is a clause separator.
    text = re.sub(r"(?<=\d),(?=(?:[ \t]*\n?[ \t\n\f]*\d){3}(?![ \t\n\f]*\d))", "\x01", text)
    text = "".join(_KEEP_FULLWIDTH.get(ch, ch) for ch in text)
    text = text.replace("\x01", ",")
    text = text.replace("．", ".")
    return text


_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_SPACE_IN_LINE = re.compile(r"(?<=[^A-Za-z0-9])\s+|\s+(?=[^A-Za-z0-9\s])")


def squeeze_spaces(line: str) -> str:
    """Drop spaces except between two ASCII letters or digits ("R&D 经费" -> "R&D经费")."""
    return _SPACE_IN_LINE.sub("", line.strip())


#: Numbering at the start of a heading: 一、 一. （一） 1. 1、 1． (． is folded to .)
NUMBERING = re.compile(
    r"^(?:(?P<cn>[一二三四五六七八九十]+)(?:、|\.(?!\d))|（(?P<paren>[一二三四五六七八九十]+)）"
    r"|(?P<num>\d{1,2})(?:[.、](?!\d)))"
)
PART = re.compile(r"^第(?P<part>[一二三四五六七八九十])部分")
_TERMINAL = "。！？；"


def _is_heading(line: str) -> bool:
    """A short numbered line with no sentence punctuation: a heading on its own."""
    if "（类）" in line or "（款）" in line:
        return False  # a 类(款)(项) path broken over lines
    numbered = NUMBERING.match(line)
    return bool(PART.match(line)) or (
        bool(numbered) and not numbered.group("num") and len(line) <= 40 and not any(ch in line for ch in "，。；")
    ) or line in ("目录",)


#: A page number printed alone at the top or bottom of a page: "12", "- 12 -", "—12—", "第12页",
#: "第 12 页 共 30 页", "12/30".
_PAGE_NUMBER = re.compile(
    r"^(?:[-—–－~\s]*\d{1,3}[-—–－~\s]*|第\s*\d{1,4}\s*页(?:\s*[，,/]?\s*共\s*\d{1,4}\s*页)?|\d{1,4}\s*/\s*\d{1,4})$"
)


def _page_lines(chunk: str, paged: bool) -> list[str]:
    """The lines of one page without the page number printed at its top or bottom (a page number
    would otherwise be joined into a sentence broken over the page, even inside a number)."""
    lines = [ln for ln in chunk.splitlines() if ln.strip()]
    if paged:
        while lines and _PAGE_NUMBER.match(lines[-1].strip()):
            lines.pop()
        while lines and _PAGE_NUMBER.match(lines[0].strip()):
            lines.pop(0)
    return lines


def paragraphs_with_pages(text: str, breaks: Collection[int] = ()) -> list[tuple[str, int | None]]:
    """Rebuild paragraphs from extracted lines, with the page (1-based) each starts on.

    Pages are separated by form feeds (\\f); text without any has page None. A paragraph ends at a
    line ending with 。！？； or at a heading line; a line starting with numbering or 第N部分 starts
    a new one, as does the first line of a page in ``breaks`` (a page of tables). Other line breaks
    (even inside a word or a number: "科\\n\\n学技术支出") are joined without a space.
    """
    out: list[tuple[str, int | None]] = []
    paged = "\f" in text
    page = 1 if paged else None
    current, current_page = "", page
    # Page numbers go before folding: a number broken over a page ("2,0" / "- 12 -" / "50.00万元")
    # is one number again only without them.
    text = "\f".join("\n".join(_page_lines(chunk, paged))
                     for chunk in unicodedata.normalize("NFKC", text).split("\f"))
    for chunk_no, chunk in enumerate(fold(text).split("\f")):
        if paged:
            page = chunk_no + 1
        first_line = page in breaks
        for raw in chunk.splitlines():
            line = raw.strip()
            line = re.sub(r"^[-*•]\s+", "", line)  # markdown list markers
            line = line.replace("**", "").replace("__", "")
            line = squeeze_spaces(line)
            if not line or not re.search(r"[\w]", line):
                continue  # empty, or stray quotes of a PDF ("“ ”")
            starts_new = bool(NUMBERING.match(line) or PART.match(line)) or first_line
            first_line = False
            if current and (starts_new or _is_heading(current) or current[-1] in _TERMINAL):
                out.append((current, current_page))
                current = ""
            if not current:
                current_page = page
            current += line
    if current:
        out.append((current, current_page))
    return out


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a text (see paragraphs_with_pages)."""
    return [p for p, _ in paragraphs_with_pages(text)]


def to_decimal(number: str) -> Decimal | None:
    """'2,186.42' -> Decimal('2186.42')."""
    try:
        return Decimal(number.replace(",", ""))
    except InvalidOperation:
        return None


CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def cn_number(s: str) -> int:
    """一 -> 1, 十一 -> 11, 二十 -> 20 (headings only go this far)."""
    if s == "十":
        return 10
    if s.startswith("十"):
        return 10 + CN_DIGITS[s[1]]
    if len(s) == 3 and s[1] == "十":
        return CN_DIGITS[s[0]] * 10 + CN_DIGITS[s[2]]
    if len(s) == 2 and s[1] == "十":
        return CN_DIGITS[s[0]] * 10
    return CN_DIGITS.get(s, 0)
