import * as v from 'valibot'

/** The schema pieces every part of the configuration is built from. */

export const wholeNumber = (min = 0) => v.pipe(v.number(), v.integer(), v.minValue(min))

export const nonEmpty = () => v.pipe(v.string(), v.minLength(1))

export const httpUrl = () =>
  v.pipe(
    v.string(),
    v.url(),
    v.check((url) => /^https?:\/\//i.test(url), 'must be an http or https URL'),
  )

/** A price in USD per million tokens: a finite number, zero or more. */
export const usdPerMillion = () => v.pipe(v.number(), v.finite(), v.minValue(0))
