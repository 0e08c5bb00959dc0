"""Reading a tagged PDF back with pikepdf: its content streams as text runs with the marked content
around them, its structure tree, and its fonts. Shared by the PDF/UA and the font tests."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pikepdf
from pikepdf import Array, Dictionary, Name

TEXT_OPERATORS = {"Tj", "TJ", "'", '"'}


@dataclass(frozen=True)
class Run:
    """One text-showing operator (or an image drawn), with where it is and what marks it."""
    page: int  # 1-based
    text: str  # "" for an image
    marks: tuple[tuple[str, int | None], ...]  # enclosing marked content, outermost first
    stream: pikepdf.Object  # the page or form XObject whose content stream holds it
    font: str = ""  # the font's BaseFont, for text

    @property
    def artifact(self) -> bool:
        return any(tag == "/Artifact" for tag, _ in self.marks)

    @property
    def mcid(self) -> int | None:
        """The innermost MCID around the run, if any."""
        for _, mcid in reversed(self.marks):
            if mcid is not None:
                return mcid
        return None


@dataclass
class Content:
    runs: list[Run] = field(default_factory=list)
    # (page number, stream objgen) -> MCIDs that stream marks
    mcids: dict[tuple[int, tuple[int, int]], set[int]] = field(default_factory=dict)
    # form XObject objgen -> page numbers that draw it
    drawn_on: dict[tuple[int, int], set[int]] = field(default_factory=dict)
    forms: dict[tuple[int, int], pikepdf.Object] = field(default_factory=dict)

    def page_text(self, page: int, *, artifact: bool) -> str:
        return "".join(r.text for r in self.runs if r.page == page and r.artifact == artifact)


def to_unicode(font: Dictionary) -> dict[int, str]:
    """A font's ToUnicode CMap as {code: text} (bfchar and bfrange)."""
    if "/ToUnicode" not in font:
        return {}
    cmap = font.ToUnicode.read_bytes().decode("latin-1")
    out: dict[int, str] = {}

    def text(hexes: str) -> str:
        return bytes.fromhex(hexes).decode("utf-16-be", errors="replace")

    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, value in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>", block):
            out[int(code, 16)] = text(value)
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for low, high, rest in re.findall(
                r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(\[[^\]]*\]|<[0-9a-fA-F]+>)", block):
            low, high = int(low, 16), int(high, 16)
            if rest.startswith("["):
                for offset, value in enumerate(re.findall(r"<([0-9a-fA-F]*)>", rest)):
                    out[low + offset] = text(value)
            else:
                start = bytes.fromhex(rest[1:-1])
                for offset in range(high - low + 1):
                    value = int.from_bytes(start, "big") + offset
                    out[low + offset] = value.to_bytes(len(start), "big").decode(
                        "utf-16-be", errors="replace")
    return out


class _Fonts:
    def __init__(self):
        self.cache: dict[tuple[int, int], tuple[dict[int, str], int, str]] = {}

    def decode(self, font: Dictionary, data: bytes) -> str:
        key = font.objgen
        if key not in self.cache:
            width = 2 if font.get("/Subtype") == Name.Type0 else 1
            self.cache[key] = (to_unicode(font), width, str(font.get("/BaseFont", "")))
        cmap, width, _ = self.cache[key]
        codes = [int.from_bytes(data[i:i + width], "big") for i in range(0, len(data), width)]
        return "".join(cmap.get(code, "\ufffd") for code in codes)


def _mcid(operands) -> int | None:
    if len(operands) == 2 and isinstance(operands[1], Dictionary) and "/MCID" in operands[1]:
        return int(operands[1].MCID)
    return None


def read_content(pdf: pikepdf.Pdf) -> Content:
    """Every text run and image of every page, following form XObjects where they are drawn."""
    content = Content()
    fonts = _Fonts()

    def walk(number: int, stream, resources, marks: list) -> None:
        mcids = content.mcids.setdefault((number, stream.objgen), set())
        font = None
        for operands, operator in pikepdf.parse_content_stream(stream):
            op = str(operator)
            if op in ("BDC", "BMC"):
                mcid = _mcid(operands)
                if mcid is not None:
                    mcids.add(mcid)
                marks.append((str(operands[0]), mcid))
            elif op == "EMC":
                marks.pop()
            elif op == "Tf":
                font = resources.Font[operands[0]]
            elif op in TEXT_OPERATORS:
                strings = operands[-1]
                parts = strings if isinstance(strings, Array) else [strings]
                text = "".join(fonts.decode(font, bytes(p)) for p in parts
                               if isinstance(p, pikepdf.String))
                content.runs.append(Run(number, text, tuple(marks), stream,
                                        str(font.get("/BaseFont", ""))))
            elif op == "Do":
                xobject = resources.XObject[operands[0]]
                if xobject.get("/Subtype") == Name.Form:
                    content.drawn_on.setdefault(xobject.objgen, set()).add(number)
                    content.forms[xobject.objgen] = xobject
                    walk(number, xobject, xobject.get("/Resources", resources), list(marks))
                else:
                    content.runs.append(Run(number, "", tuple(marks), stream))

    for number, page in enumerate(pdf.pages, start=1):
        walk(number, page.obj, page.obj.Resources, [])
    return content


def kids(element: Dictionary) -> list:
    value = element.get("/K")
    if value is None:
        return []
    return list(value) if isinstance(value, Array) else [value]


def struct_elements_in_tree(pdf: pikepdf.Pdf) -> dict[tuple[int, int], Dictionary]:
    """Every structure element reachable from the StructTreeRoot through /K."""
    found: dict[tuple[int, int], Dictionary] = {}
    todo = [pdf.Root.StructTreeRoot]
    while todo:
        for kid in kids(todo.pop()):
            if isinstance(kid, Dictionary) and "/S" in kid and kid.objgen not in found:
                found[kid.objgen] = kid
                todo.append(kid)
    return found


def all_struct_elements(pdf: pikepdf.Pdf) -> dict[tuple[int, int], Dictionary]:
    """Every object in the file that is a structure element (by /Type, or /S with /P)."""
    return {obj.objgen: obj for obj in pdf.objects
            if isinstance(obj, Dictionary) and (obj.get("/Type") == Name.StructElem
                                                or ("/S" in obj and "/P" in obj
                                                    and "/Type" not in obj))}


def parent_tree(pdf: pikepdf.Pdf) -> dict[int, pikepdf.Object]:
    """The ParentTree number tree flattened to {key: value} (Nums, and Kids at any depth)."""
    out: dict[int, pikepdf.Object] = {}
    todo = [pdf.Root.StructTreeRoot.ParentTree]
    while todo:
        node = todo.pop()
        nums = node.get("/Nums", [])
        for i in range(0, len(nums), 2):
            out[int(nums[i])] = nums[i + 1]
        todo.extend(node.get("/Kids", []))
    return out


def fonts(pdf: pikepdf.Pdf) -> list[Dictionary]:
    """Every font dictionary any page or form XObject uses (each once)."""
    seen: dict[tuple[int, int], Dictionary] = {}
    todo = [page.obj.get("/Resources") for page in pdf.pages]
    visited = set()
    while todo:
        resources = todo.pop()
        if resources is None or resources.objgen in visited and resources.objgen != (0, 0):
            continue
        visited.add(resources.objgen)
        for font in resources.get("/Font", {}).values():
            seen.setdefault(font.objgen, font)
        for xobject in resources.get("/XObject", {}).values():
            if xobject.get("/Subtype") == Name.Form and "/Resources" in xobject:
                todo.append(xobject.Resources)
    return list(seen.values())
