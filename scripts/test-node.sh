# Sourced by the test scripts (`. scripts/test-node.sh`, from the project root): which Node.js
# runs the tests, and every child they start (process.execPath).
# - By default the project's Node 24 (the `node` package in node_modules/.bin; npm scripts put
#   that folder first on PATH, this makes sure of it when a script is run by hand).
# - KERNELSEAL_TEST_NODE=system: the Node.js that runs npm (npm_node_execpath), or the first
#   on PATH outside npm. CI's matrix sets it, so that each supported Node.js line is tested.
if [ "${KERNELSEAL_TEST_NODE:-project}" = system ]; then
  PATH="$(dirname "${npm_node_execpath:-$(command -v node)}"):$PWD/node_modules/.bin:$PATH"
else
  PATH="$PWD/node_modules/.bin:$PATH"
fi
export PATH
