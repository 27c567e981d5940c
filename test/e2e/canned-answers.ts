/**
 * Answers the loopback upstream streams for the chat page's rendering tests ("canned:<name>").
 * The hostile one tries every way model output could run script on the page; each attempt would
 * call `pwned(<where>)`, a function the test exposes and watches.
 */
export const CANNED_ANSWERS = {
  hostile: [
    'Plain text before.',
    '',
    `<img src=x onerror="pwned('img onerror')">`,
    '',
    `<script>pwned('script')</script>`,
    '',
    `An inline <img src=y onerror=pwned('inline img')> in a sentence, [a markdown link](javascript:pwned('markdown-link')), ` +
      `<a href="javascript:pwned('html link')">an HTML link</a> and <u onmouseover="pwned('inline handler')">hover</u>.`,
    '',
    `<iframe src="javascript:pwned('iframe')"></iframe>`,
    '',
    `<iframe srcdoc="<script>parent.pwned('srcdoc')</script>"></iframe>`,
    '',
    `![an image](javascript:pwned('markdown-image')), [a data link](data:text/html;base64,PHNjcmlwdD5wd25lZCgnZGF0YScpPC9zY3JpcHQ+),`,
    `<javascript:pwned('autolink')>, [a reference link][ref] and [a spaced link](<javascript:pwned('spaced link')>).`,
    '',
    `[ref]: javascript:pwned('reference-link')`,
    '',
    `<svg><script>pwned('svg script')</script><circle onload="pwned('svg onload')"/></svg>`,
    '',
    `<details open ontoggle="pwned('ontoggle')"><summary>details</summary></details>`,
    '',
    '```html',
    `<script>pwned('code block')</script>`,
    `<img src=x onerror="pwned('code block img')">`,
    '```',
    '',
    'Inline code: `<b onmouseover="pwned(\'codespan\')">bold?</b>`',
    '',
    'Plain text after.',
  ].join('\n'),

  markdown: [
    '## Fruit report',
    '',
    '- apples',
    '- pears',
    '- plums',
    '',
    '| Fruit | Colour |',
    '| ----- | :----: |',
    '| apple | red    |',
    '| pear  | green  |',
    '',
    '```ts',
    'const answer = 6 * 7',
    "console.log('<b>not bold</b>', answer)",
    '```',
    '',
    'That is **all**.',
  ].join('\n'),
}

export type CannedAnswer = keyof typeof CANNED_ANSWERS

/** The words of the "tokens:<n>" answer: `w0 w1 …`, a paragraph break every 40 tokens. */
export const longAnswerToken = (index: number) => `${index === 0 ? '' : index % 40 === 0 ? '\n\n' : ' '}w${index}`
