"""Benefit terms as a form in admin: the JSON schema of ``BenefitTerms`` made into a
django-jsonform schema, the submitted data brought back to terms, pydantic's Chinese
messages placed beside their fields, and a readable diff against the stored terms.

Generated, never written per field: a field the terms models gain appears in the form
without a change here (under its name until ``terms_labels`` names it).

What the widget needs from the schema, and why each step below exists:
- references inlined and ``X | None`` reduced to ``X``: the widget resolves neither well;
- decimals (pydantic's ``number | string``) as text, so amounts keep their exact digits;
- the rule and tier kinds as fixed values, so the widget recognises which kind a stored
  rule is (it matches a rule to an option by its keys, so the data it is given carries every
  key: ``editor_data``);
- English titles and docstrings replaced by Chinese labels: the docstrings are engineering
  notes, as is the ``notes`` field, which operators do not see (kept as stored on save).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django_jsonform.widgets import JSONFormWidget

from benefits.catalogue.terms_labels import field_label, kind_label, value_labels
from benefits.terms.benefit_terms import BenefitTerms, TermsError, parse_terms, terms_to_json

# Engineering fields of the terms: kept as stored, never shown in the form.
HIDDEN_FIELDS = ("notes",)
LONG_TEXT_FIELDS = ("clause", "summary", "description")
JOIN = "§"  # django-jsonform's separator of coordinates in its error map

Schema = dict[str, Any]


@cache
def _form_schema_json(language: str) -> str:
    raw = BenefitTerms.model_json_schema()
    definitions = raw.get("$defs", {})
    root = _convert(raw, definitions, name=None)
    for hidden in HIDDEN_FIELDS:
        root["properties"].pop(hidden, None)
        if hidden in root.get("required", []):
            root["required"].remove(hidden)
    return json.dumps(root, ensure_ascii=False)


def widget_labels() -> dict[str, str]:
    """The widget's English button texts and titles, in the active language."""
    return {
        "Add item": _("添加一项"),
        "Add new item": _("添加一项"),
        "Add key": _("添加字段"),
        "Add new key": _("添加字段"),
        "Remove": _("删除"),
        "Move up": _("上移"),
        "Move down": _("下移"),
        "Edit": _("编辑"),
        "Expand": _("展开"),
        "Collapse": _("收起"),
        "Clear": _("清除"),
        "Select...": _("请选择…"),
    }


class TermsWidget(JSONFormWidget):
    """django-jsonform's widget, its buttons relabelled in Chinese (terms_form_labels.js)."""

    def render(self, name: str, value: Any, attrs: Any = None, renderer: Any = None) -> SafeString:
        inner = super().render(name, value, attrs, renderer)
        return format_html(
            '<div data-terms-form-labels="{}">{}</div>',
            json.dumps(widget_labels(), ensure_ascii=False),
            inner,
        )

    @property
    def media(self) -> forms.Media:
        return super().media + forms.Media(js=["benefits/terms_form_labels.js"])


def form_schema() -> Schema:
    """The widget's schema, labelled in the active language (a fresh copy each time)."""
    schema: Schema = json.loads(_form_schema_json(get_language() or ""))
    return schema


def _resolve(node: Schema, definitions: dict[str, Schema]) -> Schema:
    if "$ref" in node:
        target = definitions[node["$ref"].rsplit("/", 1)[-1]]
        return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _convert(node: Schema, definitions: dict[str, Schema], name: str | None) -> Schema:
    node = _resolve(node, definitions)
    if "anyOf" in node:
        options = [o for o in node["anyOf"] if o.get("type") != "null"]
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        if rest.get("default") is None:
            rest.pop("default", None)
        if {o.get("type") for o in options} == {"number", "string"}:
            return {**_label(name), "type": "string", **_default(rest)}
        if len(options) == 1:
            return _convert({**rest, **options[0]}, definitions, name)
    if "oneOf" in node:
        choices = [_convert(option, definitions, name=None) for option in node["oneOf"]]
        return {**_label(name), "oneOf": choices}
    if "const" in node:
        # The kind of a rule or tier: chosen with the option list above it, so not shown.
        return {**_label(name), "type": "string", "const": node["const"], "widget": "hidden"}
    kind = node.get("type")
    if kind == "object":
        return _object(node, definitions, name)
    if kind == "array":
        items = _convert(node.get("items", {"type": "string"}), definitions, name=None)
        return {**_label(name), "type": "array", "items": items, **_default(node)}
    out: Schema = {**_label(name), "type": kind or "string", **_default(node)}
    if "enum" in node:
        labels = value_labels(node["enum"])
        out["choices"] = [
            {"title": labels.get(value, value), "value": value} for value in node["enum"]
        ]
    if name in LONG_TEXT_FIELDS:
        out["widget"] = "textarea"
    return out


def _object(node: Schema, definitions: dict[str, Schema], name: str | None) -> Schema:
    properties = {
        key: _convert(value, definitions, key) for key, value in node["properties"].items()
    }
    out: Schema = {"type": "object", "properties": properties}
    if node.get("required"):
        out["required"] = list(node["required"])
    kind = node["properties"].get("kind", {}).get("const")
    out["title"] = kind_label(kind) if kind else field_label(name) if name else ""
    return out


def _label(name: str | None) -> Schema:
    return {"title": field_label(name)} if name else {}


def _default(node: Schema) -> Schema:
    return {"default": node["default"]} if node.get("default") is not None else {}


def editor_data(stored: Any) -> Any:
    """The stored terms with every key present (the widget matches rules to kinds by keys);
    stored terms that no longer validate are shown as they are."""
    try:
        full = parse_terms(stored).model_dump(mode="json")
    except TermsError:
        full = dict(stored) if isinstance(stored, dict) else {}
    for hidden in HIDDEN_FIELDS:
        full.pop(hidden, None)
    filled: dict[str, Any] = _blank_strings(full, form_schema())
    return filled


def _blank_strings(value: Any, schema: Schema) -> Any:
    """Unset text as "" rather than null: the widget recognises a rule's kind only when each
    text field of the kind holds text (a null ``disease_list`` made a 保障疾病 rule show as
    the first kind of the list)."""
    if "oneOf" in schema and isinstance(value, dict):
        schema = _option_for(schema, value)
    if isinstance(value, list):
        return [_blank_strings(item, schema.get("items", {})) for item in value]
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        return {k: _blank_strings(v, properties.get(k, {})) for k, v in value.items()}
    if value is None and schema.get("type") == "string":
        return ""
    return value


def _option_for(schema: Schema, value: dict[str, Any]) -> Schema:
    """The option of a choice of kinds that ``value`` is (by its ``kind``)."""
    return next(
        (
            option
            for option in schema["oneOf"]
            if option.get("properties", {}).get("kind", {}).get("const") == value.get("kind")
        ),
        schema["oneOf"][0],
    )


def submitted_terms(data: Any, stored: Any) -> Any:
    """The submitted form data as raw terms: empty optional values dropped (the widget fills
    every key, an optional section left blank included), hidden fields kept as stored."""
    pruned = _prune(data, form_schema())
    if not isinstance(pruned, dict):
        return pruned
    stored = stored if isinstance(stored, dict) else {}
    for hidden in HIDDEN_FIELDS:
        if hidden in stored:
            pruned[hidden] = stored[hidden]
    return pruned


_EMPTY: Any = object()


def _prune(value: Any, schema: Schema) -> Any:
    if "oneOf" in schema and isinstance(value, dict):
        schema = _option_for(schema, value)
    if isinstance(value, list):
        return [_prune(item, schema.get("items", {})) for item in value]
    if not isinstance(value, dict) or "properties" not in schema:
        return value
    required = set(schema.get("required", ()))
    out = {}
    for key, item in value.items():
        child = schema["properties"].get(key, {})
        item = _prune(item, child)
        if key not in required and _is_blank(item, child):
            continue
        out[key] = item
    return out


def _is_blank(value: Any, schema: Schema) -> bool:
    """Nothing filled: an empty value, the field's default, or a section holding only those."""
    if value in ("", None, [], {}):
        return True
    if "default" in schema and value == schema["default"]:
        return True
    if isinstance(value, dict) and "properties" in schema and "kind" not in value:
        return all(_is_blank(v, schema["properties"].get(k, {})) for k, v in value.items())
    return False


def check_terms(raw: Any) -> tuple[dict[str, Any] | None, dict[str, list[str]], list[str]]:
    """Validate raw terms: (canonical terms or None, error map for the widget, messages).

    The messages are the terms validation's own (Chinese, naming the field); each is placed
    at its field in the form and listed with the field's Chinese path."""
    try:
        return terms_to_json(parse_terms(raw)), {}, []
    except TermsError as exc:
        error_map: dict[str, list[str]] = {}
        messages = []
        for message in exc.messages:
            path, text = _split(message)
            coords = _coordinates(raw, path)
            error_map.setdefault(JOIN.join(coords), []).append(text)
            where = readable_path(coords)
            messages.append(f"{where}：{text}" if where else text)
        return None, error_map, messages


def _split(message: str) -> tuple[list[str], str]:
    head, sep, text = message.partition("：")
    if sep and head and " " not in head and all(part for part in head.split(".")):
        return head.split("."), text
    return [], message


def _coordinates(data: Any, path: list[str]) -> list[str]:
    """pydantic's location as coordinates in the data: the union tags it inserts
    (``rules.3.age.min_years``) are not keys of the data and are skipped."""
    coords: list[str] = []
    node = data
    for part in path:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, dict) and node.get("kind") == part:
            continue
        elif isinstance(node, dict):
            node = None  # a missing key: the error is about that field
        else:
            continue
        coords.append(part)
    return coords


def readable_path(coords: list[str]) -> str:
    return " › ".join(
        _("第%(n)s项") % {"n": int(c) + 1} if c.isdigit() else field_label(c) for c in coords
    )


def terms_diff(old: Any, new: Any) -> list[tuple[str, str, str]]:
    """(field, stored value, new value) for every leaf that differs, in Chinese paths."""
    before, after = _flatten(old), _flatten(new)
    rows = []
    for key in sorted(set(before) | set(after), key=_natural):
        if before.get(key) != after.get(key):
            coords = list(key)
            rows.append(
                (
                    readable_path(coords),
                    _shown(before.get(key, _EMPTY)),
                    _shown(after.get(key, _EMPTY)),
                )
            )
    return rows


def _natural(key: tuple[str, ...]) -> tuple[tuple[int, str], ...]:
    return tuple((int(p), "") if p.isdigit() else (0, p) for p in key)


def _flatten(value: Any, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    if isinstance(value, dict) and value:
        out: dict[tuple[str, ...], Any] = {}
        for key, item in value.items():
            if key not in HIDDEN_FIELDS or prefix:
                out.update(_flatten(item, (*prefix, str(key))))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, item in enumerate(value):
            out.update(_flatten(item, (*prefix, str(index))))
        return out
    return {prefix: value}


def _shown(value: Any) -> str:
    if value is _EMPTY or value in (None, "", [], {}):
        return _("（空）")
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, str):
        # A code of the vocabulary (policy_year, working …) in the words of the summary.
        return value_labels([value]).get(value, value)
    return str(value)
