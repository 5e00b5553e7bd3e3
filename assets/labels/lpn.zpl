^XA
^FX Floorhand LPN label, 4 x 6 in at 203 dpi (812 x 1218 dots). Filled by floorhand labels render.
^FX Rules for editing: keep every field (FO ... FS) on one line. A line that holds the gs1 or
^FX gs1_text placeholder is dropped when the item has no GS1 data (no GTIN, or data that is
^FX not valid GS1), so keep those two fields on lines of their own. Placeholders are never
^FX written inside these comment lines.
^CI28
^PW812
^LL1218
^LH0,0
^FX Header: site and LPN
^FO30,30^A0N,44,40^FD{{site}}^FS
^FO640,30^A0N,44,44^FDLPN^FS
^FO30,84^GB752,4,4^FS
^FX The LPN, large and as Code 128 (mode N, data with start code and subset switches)
^FO30,104^A0N,110,90^FD{{lpn}}^FS
^FO40,226^BY3^BCN,150,N,N,N,N^FD{{lpn_barcode}}^FS
^FO30,396^GB752,2,2^FS
^FX Item
^FO30,414^A0N,26,26^FDSKU^FS
^FO30,444^A0N,60,54^FD{{sku}}^FS
^FO30,514^A0N,34,30^FB752,2,4,L,0^FD{{description}}^FS
^FO30,600^GB752,2,2^FS
^FX Lot and expiry
^FO30,618^A0N,26,26^FDLOT^FS
^FO30,650^A0N,42,34^FD{{lot}}^FS
^FO440,618^A0N,26,26^FDEXPIRY^FS
^FO440,650^A0N,42,34^FD{{expiry}}^FS
^FO30,712^GB752,2,2^FS
^FX Quantity, PO and receipt
^FO30,730^A0N,26,26^FDQTY^FS
^FO30,762^A0N,80,70^FD{{qty}} {{unit}}^FS
^FO440,730^A0N,26,26^FDPO^FS
^FO440,758^A0N,36,32^FD{{po}}^FS
^FO440,804^A0N,26,26^FDRECEIPT^FS
^FO440,832^A0N,36,32^FD{{receipt}}^FS
^FO30,884^GB752,2,2^FS
^FX GS1-128: mode N data from the renderer, text line printed separately with AIs in brackets
^FO30,904^BY2^BCN,160,N,N,N,N^FD{{gs1}}^FS
^FO30,1074^A0N,28,24^FD{{gs1_text}}^FS
^FX Footer
^FO30,1160^A0N,26,24^FDPrinted {{printed_at}}^FS
^XZ
