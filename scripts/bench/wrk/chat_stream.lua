-- wrk: POST /v1/chat/completions with "stream": true (the upstream answers 50 content chunks).
-- BENCH_INCLUDE_USAGE=1 asks for the usage chunk itself: the direct target sends that so the
-- upstream does exactly the work it does behind the gateway, which always forces include_usage.
local model = os.getenv("BENCH_MODEL") or "gpt-fake"
local key = os.getenv("BENCH_API_KEY") or "fake-key"
local options = ""
if os.getenv("BENCH_INCLUDE_USAGE") == "1" then
  options = ',"stream_options":{"include_usage":true}'
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key
wrk.body = '{"model":"' .. model .. '","messages":['
  .. '{"role":"system","content":"You are a helpful assistant."},'
  .. '{"role":"user","content":"Write fifty short words about load testing."}'
  .. '],"max_tokens":64,"temperature":0,"stream":true' .. options .. '}'
