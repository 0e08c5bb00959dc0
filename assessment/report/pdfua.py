"""What WeasyPrint's PDF/UA-1 output still lacks, added in one pass over the PDF with pikepdf.

WeasyPrint's "pdf/ua-1" variant writes the XMP metadata (dc:title, pdfuaid:part 1), the
structure tree, MarkInfo, ViewerPreferences/DisplayDocTitle and /Lang. Two things it leaves
wrong are put right here (docs/report.md, "Accessible PDF"):

- Running headers and footers (the @page margin boxes). WeasyPrint marks their text as tagged
  content but leaves their structure elements out of the tree, as orphans. Content whose element
  is not in the tree becomes a pagination artifact here, and its ParentTree entries are dropped,
  so the orphans are no longer written.
- Tagged content inside form XObjects (WeasyPrint draws an element with `opacity` through a
  transparency group). Its marked-content ids are numbered as if they were in the page's content
  stream. Each such form XObject gets its own /StructParents entry, and its structure elements
  point at it with marked-content references (/MCR with /Stm), as ISO 32000-1, 14.7.4.3 asks.
"""

from __future__ import annotations

import io

import pikepdf
from pikepdf import Array, Dictionary, Name

PAGINATION = Dictionary(Type=Name.Pagination)


def finish(data: bytes) -> bytes:
    """The PDF WeasyPrint wrote, with headers and footers as artifacts and form XObject content
    referenced by the structure tree; a PDF without a structure tree is returned unchanged."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        tree = pdf.Root.get("/StructTreeRoot")
        if tree is None:
            return data
        in_tree = _elements_in_tree(tree)
        nums = tree.ParentTree.Nums
        parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        next_key = max(parents, default=-1) + 1
        for page in pdf.pages:
            mcids = parents.get(int(page.obj.get("/StructParents", -1)))
            if not isinstance(mcids, Array):
                continue
            orphans = {mcid for mcid, element in enumerate(mcids)
                       if isinstance(element, Dictionary) and element.objgen not in in_tree}
            instructions = pikepdf.parse_content_stream(page.obj)
            if orphans:
                page.obj.Contents = pdf.make_stream(_as_artifacts(instructions, orphans))
                for mcid in orphans:
                    mcids[mcid] = None
            for form, form_mcids in _tagged_forms(instructions, page.obj.get("/Resources")):
                if form.get("/StructParents") is not None:
                    continue  # drawn again: its content is already referenced from the first use
                elements = Array([None] * (max(form_mcids) + 1))
                for mcid in form_mcids:
                    element = mcids[mcid]
                    elements[mcid] = element
                    mcids[mcid] = None
                    reference = Dictionary(Type=Name.MCR, Pg=page.obj, Stm=form, MCID=mcid)
                    element.K = Array([reference if not isinstance(kid, Dictionary) and kid == mcid
                                       else kid for kid in _kids(element)])
                form.StructParents = next_key
                nums.extend([next_key, pdf.make_indirect(elements)])
                next_key += 1
            while len(mcids) and mcids[-1] is None:
                del mcids[-1]
        tree.ParentTreeNextKey = next_key
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True, stream_decode_level=pikepdf.StreamDecodeLevel.none)
        return out.getvalue()


def _kids(element: Dictionary) -> list:
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, Array) else [kids]


def _elements_in_tree(tree: Dictionary) -> set[tuple[int, int]]:
    """The objgen of every structure element reachable from the root through /K."""
    seen: set[tuple[int, int]] = set()
    todo = [tree]
    while todo:
        for kid in _kids(todo.pop()):
            if isinstance(kid, Dictionary) and "/S" in kid and kid.objgen not in seen:
                seen.add(kid.objgen)
                todo.append(kid)
    return seen


def _mcid(operands) -> int | None:
    if len(operands) == 2 and isinstance(operands[1], Dictionary) and "/MCID" in operands[1]:
        return int(operands[1].MCID)
    return None


def _as_artifacts(instructions, orphans: set[int]) -> bytes:
    """A content stream with each marked sequence of an orphan MCID made an artifact."""
    artifact = pikepdf.Operator("BDC")
    return pikepdf.unparse_content_stream([
        pikepdf.ContentStreamInstruction([Name.Artifact, PAGINATION], artifact)
        if str(i.operator) == "BDC" and _mcid(i.operands) in orphans else i
        for i in instructions])


def _tagged_forms(instructions, resources) -> list[tuple[pikepdf.Stream, list[int]]]:
    """Form XObjects a content stream draws (at any depth) that hold MCID-marked content, with
    those MCIDs. WeasyPrint draws each transparency group it makes once, from one page."""
    found = []
    todo = [(instructions, resources)]
    while todo:
        instructions, resources = todo.pop()
        xobjects = resources.get("/XObject", {}) if resources is not None else {}
        for instruction in instructions:
            if str(instruction.operator) != "Do":
                continue
            form = xobjects.get(instruction.operands[0])
            if form is None or form.get("/Subtype") != Name.Form:
                continue
            inner = pikepdf.parse_content_stream(form, "BDC Do")
            mcids = [m for m in (_mcid(i.operands) for i in inner
                                 if str(i.operator) == "BDC") if m is not None]
            if mcids:
                found.append((form, mcids))
            todo.append((inner, form.get("/Resources", resources)))
    return found
