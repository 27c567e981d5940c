/**
 * Validation uses zod's tree-shakable "mini" build. The full build carries every locale into the
 * bundle (over 100 KiB gzipped); this module loads English messages only. Import it for its
 * effect, beside `import * as z from 'zod/mini'`, wherever a schema is parsed.
 */
import { config } from 'zod/mini'
import { en } from 'zod/locales'

config(en())
