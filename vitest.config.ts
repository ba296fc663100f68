export default { test: { include: ['packages/*/src/**/*.test.ts','packages/*/test/**/*.test.ts','test/**/*.test.ts'], testTimeout: 60000 } }
