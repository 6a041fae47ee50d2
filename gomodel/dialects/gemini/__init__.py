"""Google Gemini ``generateContent``, translated to and from the wire-neutral types of `gomodel.core.chat`.

AI Studio and Vertex AI speak the same JSON; only URLs and credentials differ (the providers' job).
One module per job: ``request_encode`` (``ChatRequest`` -> body), ``response_decode`` (body ->
``ChatResponse``), ``stream_decode`` (SSE bytes -> stream events, incrementally), ``tool_ids``
(call ids and thought signatures across the boundary), ``errors`` (Google error shapes -> gateway
errors), ``embeddings`` (embedding bodies of both services) and ``models`` (model lists and ids).
"""
