"""The owner's private roadmap link, as the firm manages it: make, replace, cancel.

A link is shown once, right after it is made (only its hash is kept); the client's page then
says when it was made and until when it works, with buttons to make a new one in its place or
cancel it.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ...storage import roadmap_links as links
from ...support.audit import audit
from ..auth import current_firm_id, member_required
from ..db import get_db
from .common import bp, client_or_404, member_names


@bp.post("/clients/<int:client_id>/roadmap-link")
@member_required
def create_roadmap_link(client_id: int):
    """A private link for the client's owner to their roadmap; any earlier one stops working."""
    client = client_or_404(client_id)
    db, firm = get_db(), current_firm_id()
    replaced = links.live_link_for(db, firm, client_id) is not None
    token = links.create_link(db, firm, client_id, current_user.id)
    audit("link_replaced" if replaced else "link_created", kind="roadmap", client=client_id,
          member=current_user.id)
    return render_template("roadmap_link/created.html", title="The owner's roadmap link",
                           client=client, replaced=replaced,
                           link=url_for("roadmap_link.view", token=token, _external=True),
                           row=links.find_by_token(db, token))


# The link's public name is `link_id` in the address so that, signed out, member_required answers
# 404 as it does for every address that names a firm's object.
@bp.post("/roadmap-links/<link_id>/cancel")
@member_required
def cancel_roadmap_link(link_id: str):
    link = links.link_by_ref(get_db(), current_firm_id(), link_id)
    if link is None:
        audit("access_denied", reason="no such roadmap link in this firm",
              member=current_user.id)
        abort(404)
    if links.cancel_link(get_db(), current_firm_id(), link_id):
        audit("link_cancelled", kind="roadmap", client=link["client_id"],
              member=current_user.id)
        flash("Cancelled: the owner's roadmap link no longer works. Make a new one to send "
              "them a link again.", "success")
    else:
        flash("That link was cancelled already.", "info")
    return redirect(url_for("workspace.client", client_id=link["client_id"],
                            _anchor="owner-roadmap-link"), 303)


@bp.app_template_global()
def owner_roadmap_link(client_id: int) -> dict | None:
    """For the client's page: the owner's roadmap link that works now (its public name, when
    and by whom it was made, until when it works), never its token; None when there is none."""
    row = links.live_link_for(get_db(), current_firm_id(), client_id)
    if row is None:
        return None
    return {"ref": row["ref"], "created_at": row["created_at"], "expires_at": row["expires_at"],
            "created_by": member_names().get(row["created_by"]) if row["created_by"] else None}
