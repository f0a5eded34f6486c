// JupyterLab's builder loads .svg files as their text.
declare module '*.svg' {
  const svgstr: string;
  export default svgstr;
}
