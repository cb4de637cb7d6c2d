"""Words shown for stored codes (verdicts, results, crafts...), in the user's language."""

from flask_babel import lazy_gettext as _l

VERDICTS = {
    "compliant": _l("Compliant"),
    "needs_follow_up": _l("Needs follow-up"),
    "non_compliant": _l("Non-compliant"),
}
RESULTS = {"pass": _l("Pass"), "fail": _l("Fail"), "na": _l("N/A")}
MISSING = {
    "unanswered": _l("Not answered yet."),
    "photo_required": _l("A photo is required."),
    "na_not_allowed": _l("N/A is not possible for this item."),
    "unknown_item": _l("Not on this checklist."),
    "bad_result": _l("Choose Pass, Fail or N/A."),
}
VENUE_KINDS = {
    "fan_zone": _l("Fan zone craft village"),
    "medina_market": _l("Medina market"),
    "fair": _l("Craft fair"),
    "stadium": _l("Stadium surroundings"),
}
CATEGORIES = {
    "artisan": _l("Artisan"),
    "master": _l("Master artisan (Maâlem)"),
    "cooperative": _l("Craft cooperative"),
    "enterprise": _l("Craft enterprise"),
}
CRAFTS = {
    "carpets": _l("Carpets and weaving"),
    "pottery": _l("Pottery and ceramics"),
    "leather": _l("Leather"),
    "wood": _l("Woodwork"),
    "copper": _l("Copper and brassware"),
    "jewellery": _l("Jewellery"),
    "clothing": _l("Traditional clothing"),
    "zellige": _l("Zellige and decorative stone"),
    "saddlery": _l("Saddlery"),
    "basketry": _l("Basketry"),
}
ROLES = {
    "admin": _l("Administrator"),
    "coordinator": _l("Coordinator"),
    "inspector": _l("Inspector"),
}


def label(table: dict, code: str | None) -> str:
    if code is None:
        return "—"
    return str(table.get(code, code))


TEMPLATE_GLOBALS = {
    "verdict_label": lambda code: label(VERDICTS, code),
    "result_label": lambda code: label(RESULTS, code),
    "missing_label": lambda code: label(MISSING, code),
    "venue_kind_label": lambda code: label(VENUE_KINDS, code),
    "category_label": lambda code: label(CATEGORIES, code),
    "craft_label": lambda code: label(CRAFTS, code),
    "role_label": lambda code: label(ROLES, code),
}
