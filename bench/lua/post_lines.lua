-- POST one pre-built request per line of a file: "<Stripe-Signature>\t<JSON body>".
-- wrk -s post_lines.lua URL -- FILE NTHREADS ; each thread takes every NTHREADS-th line, so no event is
-- sent twice unless a thread runs out (then it starts over and `done` prints WRAPPED).
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  reqs = {}
  local i = 0
  for line in io.lines(path) do
    if i % nthreads == id then
      local tab = line:find("\t", 1, true)
      local headers = {["Content-Type"] = "application/json", ["Stripe-Signature"] = line:sub(1, tab - 1)}
      reqs[#reqs + 1] = wrk.format("POST", nil, headers, line:sub(tab + 1))
    end
    i = i + 1
  end
  n = 0
  wrapped = 0
end

function request()
  n = n + 1
  if n > #reqs then
    n = 1
    wrapped = wrapped + 1
  end
  return reqs[n]
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    if thread:get("wrapped") > 0 then
      io.write("WRAPPED\n")
    end
  end
end
