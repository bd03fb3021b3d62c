// The progress renderers, for the CLI (ui/ is not part of the library API).

export { createRenderer, type Renderer, type RendererOptions } from './create-renderer.js';
export { chooseProgressMode, type ProgressMode, type RequestedProgressMode } from './mode.js';
