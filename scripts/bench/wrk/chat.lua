-- wrk: POST /v1/chat/completions, non-streaming.
-- The harness sets BENCH_MODEL and BENCH_API_KEY so one script serves every target.
local model = os.getenv("BENCH_MODEL") or "gpt-fake"
local key = os.getenv("BENCH_API_KEY") or "fake-key"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key
wrk.body = '{"model":"' .. model .. '","messages":['
  .. '{"role":"system","content":"You are a helpful assistant."},'
  .. '{"role":"user","content":"Write fifty short words about load testing."}'
  .. '],"max_tokens":64,"temperature":0}'
