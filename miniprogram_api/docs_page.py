"""GET /api/v1/docs: the OpenAPI document as one HTML page, rendered on the server from the document itself.

A page of our own rather than Swagger UI: it needs no JavaScript or assets from the internet, and the Swagger UI on
PyPI (swagger-ui-bundle) is 4.x, which refuses OpenAPI 3.1 documents; Jinja escapes every value, so a summary cannot
inject markup.
"""
from __future__ import annotations

import json
from typing import Any

from flask import render_template_string

from miniprogram_api import consumer
from miniprogram_api.openapi import document

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>micromall API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 2rem;color:#222}
nav a{margin-right:.8rem} h2{border-bottom:1px solid #ccc;margin-top:2.5rem}
details{border:1px solid #ddd;border-radius:4px;margin:.4rem 0;padding:.3rem .7rem}
summary{cursor:pointer} code,pre{font:13px ui-monospace,monospace} pre{background:#f6f6f6;padding:.6rem;overflow:auto}
.m{display:inline-block;width:4.2rem;font-weight:600;text-transform:uppercase}
.get{color:#0a6}.post{color:#06c}.put{color:#a60}.delete{color:#c22} table{border-collapse:collapse}
td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
</style></head><body>
<h1>{{ doc.info.title }} API <small>v{{ doc.info.version }}, OpenAPI {{ doc.openapi }}</small></h1>
<p>{{ doc.info.description }} The machine-readable document: <a href="openapi.json">openapi.json</a>.
Servers: {% for s in doc.servers %}<code>{{ s.url }}</code> {% endfor %}</p>
<nav>{% for tag in tags %}<a href="#{{ tag }}">{{ tag }}</a>{% endfor %}<a href="#schemas">schemas</a></nav>
{% for tag, ops in groups %}<h2 id="{{ tag }}">{{ tag }}</h2>
{% for method, path, op in ops %}<details><summary><span class="m {{ method }}">{{ method }}</span>
<code>{{ path }}</code> — {{ op.summary }}{% if op.security %} 🔒{% endif %}</summary>
{% if op.description %}<p>{{ op.description }}</p>{% endif %}
{% if op.parameters %}<table><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th></tr>
{% for p in op.parameters %}<tr><td><code>{{ p.name }}</code></td><td>{{ p.in }}</td><td>{{ p.required }}</td>
<td><code>{{ dumps(p.schema) }}</code></td></tr>{% endfor %}</table>{% endif %}
{% if op.requestBody %}<p>Request body:</p><pre>{{ dumps(op.requestBody.content) }}</pre>{% endif %}
<p>Responses:</p><table>{% for status, r in op.responses.items() %}<tr><td>{{ status }}</td><td>{{ r.description }}</td>
<td><code>{{ dumps(r.get("content", {})) }}</code></td></tr>{% endfor %}</table></details>
{% endfor %}{% endfor %}
<h2 id="schemas">Schemas</h2>
{% for name, schema in doc.components.schemas.items() %}<details id="schema-{{ name }}"><summary><code>{{ name }}</code>
</summary><pre>{{ dumps(schema, indent=2) }}</pre></details>{% endfor %}
</body></html>
"""


def _groups(doc: dict[str, Any]) -> list[tuple[str, list[tuple[str, str, dict[str, Any]]]]]:
    """Operations under their first tag (public, customer, staff, wechat, console), in path order."""
    groups: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            groups.setdefault((op.get("tags") or ["other"])[0], []).append((method, path, op))
    return sorted(groups.items())


@consumer.get("/docs")
def api_docs():
    doc = document()
    groups = _groups(doc)
    return render_template_string(PAGE, doc=doc, groups=groups, tags=[tag for tag, _ in groups],
                                  dumps=lambda value, indent=None: json.dumps(value, ensure_ascii=False,
                                                                               indent=indent))
