-- wrk: POST /v1/messages (Anthropic Messages) with "stream": true; the upstream answers 50 text deltas.
-- Used through the gateway (x-api-key carries the gateway's master key) and straight at the
-- upstream's Anthropic location, which is the request the gateway sends there.
local model = os.getenv("BENCH_MODEL") or "claude-fake"
local key = os.getenv("BENCH_API_KEY") or "fake-key"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-api-key"] = key
wrk.headers["anthropic-version"] = "2023-06-01"
wrk.body = '{"model":"' .. model .. '","max_tokens":256,"stream":true,'
  .. '"system":"You are a helpful assistant.",'
  .. '"messages":[{"role":"user","content":"Write fifty short words about load testing."}]}'
