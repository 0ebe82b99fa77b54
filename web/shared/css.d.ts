/** Vite bundles imported stylesheets; for TypeScript they are side-effect modules without exports. */
declare module '*.css';
