-- wrk script: every request a distinct small URL (/m<thread>-<n>), so each is a miss
-- that the proxy stores. Used by benches/soak/mem.sh.
local counter = 0
local tid = 0
local threads = {}
function setup(thread)
    tid = tid + 1
    thread:set("tid", tid)
end
function request()
    counter = counter + 1
    return wrk.format("GET", "/m" .. tid .. "-" .. counter)
end
