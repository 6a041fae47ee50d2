-- wrk: the same POST for every request of a run, built by the harness (harness/bodies.py) so that
-- wrk, hey, the probe and the slow-stream client send identical bytes to every target.
-- BENCH_BODY: the JSON body. BENCH_HEADERS: newline-separated "Name: value" lines (the target's
-- auth and, for peer gateways, their routing headers).
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY") or error("BENCH_BODY is not set")
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then
    wrk.headers[name] = value
  end
end
