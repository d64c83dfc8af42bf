-- A tiny test runner for the Lua binding: every test_*.lua file given on
-- the command line returns a table of test functions; each runs in pcall.
-- Prints one line per test and closes with "N passed, M failed".
local passed, failed = 0, 0
for _, file in ipairs(arg) do
  local tests = assert(dofile(file))
  local names = {}
  for name in pairs(tests) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local ok, err = xpcall(tests[name], debug.traceback)
    collectgarbage("collect")
    if ok then
      passed = passed + 1
      print("ok   " .. file:match("[^/]*$") .. " " .. name)
    else
      failed = failed + 1
      print("FAIL " .. file:match("[^/]*$") .. " " .. name .. "\n" .. tostring(err))
    end
  end
end
print(string.format("%d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1)
