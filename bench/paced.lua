-- paths.lua with a pause before each request, for latency at a set rate
-- rather than at saturation: C connections that each wait P ms between
-- requests offer about C * 1000 / (P + latency) requests/s.
--   wrk -t1 -c16 -d25s --latency -s bench/paced.lua http://127.0.0.1:8765 -- paths.txt 15

local folder = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(folder .. "paths.lua")

local paths_init = init
local pause_ms = 0

function init(args)
  pause_ms = tonumber(args[2]) or 0
  paths_init(args)
end

function delay()
  return pause_ms
end
