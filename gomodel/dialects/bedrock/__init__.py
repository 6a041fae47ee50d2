"""Amazon Bedrock Runtime: Converse / ConverseStream and Titan embeddings, translated to and from
the wire-neutral types of `gomodel.core.chat`.

One module per job: ``endpoint`` (URLs and signing region), ``request_encode`` (``ChatRequest`` ->
Converse JSON), ``reasoning`` (per model family thinking fields), ``response_decode`` (Converse JSON ->
``ChatResponse``), ``stream_decode`` (AWS event-stream frames -> stream events, incrementally),
``errors`` (AWS error shapes -> gateway errors), ``embeddings`` (Titan InvokeModel bodies) and
``models`` (the control plane's ListFoundationModels).

``stream_decode`` needs botocore (the ``bedrock`` extra); only the Bedrock provider imports this package,
so a gateway without Bedrock never loads it.
"""
