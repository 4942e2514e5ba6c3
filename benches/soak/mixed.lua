-- wrk script for benches/soak/soak.sh: a mixed load on `varyedge proxy` in front of
-- `varyedge origin benches/soak/origin.yaml`. Per request, by weight:
--   55% GET /api/<0..199> with one of three Origins (hits, Vary: Origin variants)
--   20% GET /m<thread>-<n> (a new URL each time: a miss that is stored, filling the store)
--   10% GET /nostore<0..9> (forwarded, not stored)
--    5% POST /api/x (a pass)
--    5% OPTIONS /api/<n> preflight
--    5% GET /api/<n> without Origin
-- (no HEAD: wrk's parser waits for a HEAD response's body and stalls the connection)
-- Counts replies >= 500 per thread; done() prints the total as "5xx: N".
local origins = { "https://a.example", "https://b.example", "https://c.example" }
local tid = 0
local threads = {}
function setup(thread)
    tid = tid + 1
    thread:set("tid", tid)
    table.insert(threads, thread)
end
function init(args)
    counter = 0
    errors5xx = 0
    math.randomseed(tid * 7919)
end
function request()
    counter = counter + 1
    local r = math.random(100)
    local o = origins[math.random(3)]
    if r <= 55 then
        return wrk.format("GET", "/api/" .. math.random(0, 199), { Origin = o })
    elseif r <= 75 then
        return wrk.format("GET", "/m" .. tid .. "-" .. counter)
    elseif r <= 85 then
        return wrk.format("GET", "/nostore" .. math.random(0, 9))
    elseif r <= 90 then
        return wrk.format("POST", "/api/x", { Origin = o, ["Content-Type"] = "application/json" }, "{}")
    elseif r <= 95 then
        return wrk.format("OPTIONS", "/api/" .. math.random(0, 199),
            { Origin = o, ["Access-Control-Request-Method"] = "PUT" })
    else
        return wrk.format("GET", "/api/" .. math.random(0, 199))
    end
end
function response(status, headers, body)
    if status >= 500 then
        errors5xx = errors5xx + 1
    end
end
function done(summary, latency, requests)
    local n = 0
    for _, t in ipairs(threads) do
        n = n + t:get("errors5xx")
    end
    io.write("5xx: " .. n .. "\n")
end
