-- wrk script for the load benchmark: cycles through a fixed set of requests.
--   wrk ... -s keys.lua -- MODE NURLS NORIGINS [SALT]
-- MODE: get (GET /vary/<u> with Origin), pf (OPTIONS /pf/<u> with Origin, ACRM, ACRH),
--       miss (GET /miss/<salt>-<thread>-<n>: every request a new key),
--       warm-get / warm-pf (each of the NURLS x NORIGINS requests once, then stop;
--       run with -t1 and LOAD_WARM=1).
-- Requests are built once in init(), so wrk spends no time formatting them per request.
local mode, nurls, norigins, salt
local reqs, n, i, done = {}, 0, 0, 0
local tid = 0
local counter = 1

function setup(thread)
    thread:set("tid", counter)
    counter = counter + 1
end

local function origin(o) return "https://o" .. o .. ".load.example" end

function init(args)
    mode = args[1] or "get"
    nurls = tonumber(args[2] or "1")
    norigins = tonumber(args[3] or "1")
    salt = args[4] or "0"
    tid = tonumber(wrk.thread:get("tid") or "0") or 0
    if mode == "miss" then return end
    local method, prefix, extra = "GET", "/vary/", {}
    if mode == "pf" or mode == "warm-pf" then
        method, prefix = "OPTIONS", "/pf/"
        extra["Access-Control-Request-Method"] = "PUT"
        extra["Access-Control-Request-Headers"] = "content-type"
    end
    -- origin-major order: consecutive requests rotate the Origin under one URL
    for u = 0, nurls - 1 do
        for o = 0, norigins - 1 do
            local h = { ["Origin"] = origin(o) }
            for k, v in pairs(extra) do h[k] = v end
            n = n + 1
            reqs[n] = wrk.format(method, prefix .. u, h)
        end
    end
    -- threads start at different offsets so they do not walk in step
    i = ((tid - 1) * 7919) % n
end

function request()
    if mode == "miss" then
        i = i + 1
        return wrk.format("GET", "/miss/" .. salt .. "-" .. tid .. "-" .. i)
    end
    i = i % n + 1
    return reqs[i]
end

if os.getenv("LOAD_WARM") == "1" then
    function response(status, headers, body)
        done = done + 1
        if done >= n then wrk.thread:stop() end
    end
end
