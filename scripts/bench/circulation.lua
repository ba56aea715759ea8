-- wrk script for scripts/bench/circulation.py: each thread (one connection) lends a copy to a
-- reader, then takes it back, again and again, with copies of its own; 5% of the checkouts are
-- by collective cards with 320 loans each. Arguments: token, run number, copies, readers, and
-- optionally a pause in milliseconds after each answer (a paced run: an offered rate).
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  token, run, copies, readers = args[1], tonumber(args[2]), tonumber(args[3]), tonumber(args[4])
  pause = tonumber(args[5] or "0")
  first = copies - 100000 + 1 + (run * 16 + tid) % 128 * 750  -- eight runs, none sharing copies
  n, phase, errors, barcode = 0, 0, 0, ""
  math.randomseed(tid * 7919 + run)
  headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
end

function request()
  if phase == 0 then
    barcode = string.format("C%08d", first + n % 1500)
    local card
    if math.random() < 0.05 then
      card = string.format("I%05d", math.random(1, 50))
    else
      card = string.format("P%08d", math.random(1, readers))
    end
    return wrk.format("POST", "/api/v1/checkouts", headers,
      '{"card":"' .. card .. '","barcode":"' .. barcode .. '"}')
  end
  return wrk.format("POST", "/api/v1/checkins", headers, '{"barcode":"' .. barcode .. '"}')
end

function delay()
  return pause
end

function response(status, headers, body)
  if (phase == 0 and status ~= 201) or (phase == 1 and status ~= 200) then
    errors = errors + 1
    if errors <= 3 then io.stderr:write(status .. " " .. body:sub(1, 200) .. "\n") end
  end
  if phase == 1 then n = n + 1 end
  phase = 1 - phase
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do failed = failed + thread:get("errors") end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests": %d, "seconds": %.2f, "requests_per_s": %.1f, "p50_ms": %.2f, "p95_ms": %.2f, ' ..
    '"p99_ms": %.2f, "max_ms": %.2f, "errors": %d, "socket_errors": %d}\n',
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000, failed,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
