/**
 * Where the repository's `schema/` folder is: beside `src/` when run from the sources, `dist/schema`
 * in the build (`npm run build` copies it there). Worked out in this one module, one level below the
 * root, because the compiled server is bundled (`dist/src/main.js` holds every module): a path
 * relative to each module's own depth would point elsewhere from the bundle.
 */
export const SCHEMA_FOLDER = new URL('../schema/', import.meta.url);
