// The part of @stellar/js-xdr (an RFC 4506 codec without its own typings) that Ferry's
// libvirt protocol definitions use. Types are opaque here: protocol.ts converts between
// them and plain objects.
declare module '@stellar/js-xdr' {
  /** A type the codec can read and write: a class (Int, structs, unions) or an instance (String, VarArray...). */
  export type XdrType = any;
  export interface XdrBuilder {
    int(): XdrType;
    uint(): XdrType;
    hyper(): XdrType;
    uhyper(): XdrType;
    double(): XdrType;
    string(max?: number): XdrType;
    opaque(length: number): XdrType;
    varOpaque(max?: number): XdrType;
    array(child: XdrType, length: number): XdrType;
    varArray(child: XdrType, max?: number): XdrType;
    option(child: XdrType): XdrType;
    lookup(name: string): XdrType;
    void(): XdrType;
    struct(name: string, fields: [string, XdrType][]): void;
    union(name: string, spec: { switchOn: XdrType; switches: [number, string | XdrType][]; arms: Record<string, XdrType>; defaultArm?: XdrType }): void;
    typedef(name: string, type: XdrType): void;
  }
  export function config(fn: (x: XdrBuilder) => void): Record<string, XdrType>;
  export const Int: XdrType;
  export const UnsignedInt: XdrType;
  export const Hyper: XdrType;
  export const UnsignedHyper: XdrType;
  export const Double: XdrType;
  export const Bool: XdrType;
  export const String: XdrType;
  export const Opaque: XdrType;
  export const VarOpaque: XdrType;
  export const Array: XdrType;
  export const VarArray: XdrType;
  export const Option: XdrType;
  export const Struct: XdrType;
  export const Union: XdrType;
  export const Void: XdrType;
  export class XdrReader {
    constructor(buf: Buffer);
    readonly eof: boolean;
    remainingBytes(): number;
  }
}
