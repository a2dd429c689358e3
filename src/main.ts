import { ConfigError, loadConfig } from './config.js'
import { serve } from './serve.js'

/** Process entry: a configuration that does not load stops the process with one line naming the setting. */
async function main() {
  let config
  try {
    config = loadConfig(process.env)
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`Configuration error: ${e.message}`)
      process.exit(1)
    }
    throw e
  }
  await serve(config)
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e)
  process.exit(1)
})
