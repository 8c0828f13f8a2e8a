"""Request and response bodies of the API, declared once (Pydantic v2): SpecTree validates requests against them and
writes them into the OpenAPI document (docs/api-schemas.md). One module per aggregate; `common` holds the shared
pieces (ids, paging, the error envelope)."""
